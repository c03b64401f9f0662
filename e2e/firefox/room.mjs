// room.mjs takes one side of a Foyer video session in Firefox, driven over
// WebDriver BiDi, for the interop test in e2e/videofirefox_test.go:
//
//   node room.mjs BASE client EMAIL PASSWORD
//   node room.mjs BASE staff EMAIL PASSWORD ROOM_PATH
//
// It prints one JSON line per step on standard output ({"step": ...}), and
// keeps the session until its standard input closes or 3 minutes pass.
import puppeteer from "puppeteer-core";

const [base, role, email, password, roomPath] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FOYER_FIREFOX || "/usr/bin/firefox-esr",
  headless: true,
  extraPrefsFirefox: {
    // A fake camera and microphone, granted without asking.
    "media.navigator.streams.fake": true,
    "media.navigator.permission.disabled": true,
    // Both browsers run on this machine: let ICE pair loopback and real addresses.
    "media.peerconnection.ice.loopback": true,
    "media.peerconnection.ice.obfuscate_host_addresses": false,
    "media.autoplay.default": 0,
  },
});
const stop = async (code) => {
  await browser.close().catch(() => {});
  process.exit(code);
};
setTimeout(() => stop(0), 180000);
process.stdin.on("end", () => stop(0));
process.stdin.resume();

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const submit = async (form, fields) => {
    for (const [name, value] of Object.entries(fields)) {
      await page.locator(`${form} [name="${name}"]`).fill(value);
    }
    await Promise.all([page.waitForNavigation(), page.locator(`${form} button[type="submit"]`).click()]);
  };
  if (role === "client") {
    await page.goto(base + "/portal");
    await submit(`form[action="/portal"]`, { email, password });
    await Promise.all([page.waitForNavigation(), page.locator("a.join").click()]);
  } else {
    await page.goto(base + "/signin");
    await submit(`form[action="/signin"]`, { email, password });
    await page.goto(base + roomPath);
  }
  await page.locator("#room-start").click();
  await page.locator("#room-join").click();
  say({ step: "joined", userAgent: await page.evaluate(() => navigator.userAgent) });
  if (role === "staff") {
    await page.locator("#room-admit").setTimeout(60000).click();
    say({ step: "admitted" });
  }
  const stats = () => page.evaluate(async () => {
    const pc = window.foyerRoom && window.foyerRoom.pc();
    if (!pc || pc.connectionState !== "connected") return { frames: 0, audio: 0 };
    let frames = 0, audio = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded || 0;
      if (r.type === "inbound-rtp" && r.kind === "audio") audio += r.bytesReceived || 0;
    });
    return { frames, audio, quality: window.foyerRoom.quality().mine, status: document.getElementById("room-status").textContent };
  });
  for (let i = 0; i < 600; i++) {
    const s = await stats();
    if (s.frames > 30 && s.audio > 5000) {
      say({ step: "media", ...s });
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Report the line's grade once it is known, then keep the session.
  for (let i = 0; i < 100; i++) {
    const s = await stats();
    if (s.quality) {
      say({ step: "quality", ...s });
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
} catch (err) {
  say({ step: "error", error: String(err && err.stack || err) });
  await stop(1);
}
