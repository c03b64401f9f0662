package mail

import "foyer/store"

// writeBackupFailed tells an owner that the off-site backups keep failing
// (package backup queues it at the second failure in a row).
func writeBackupFailed(r *rendering) error {
	a := r.M.Args
	r.Mail.Subject = r.L.T("mail.backup_failed.subject", "Practice", r.P.Name)
	r.Mail.Greeting = r.L.T("mail.greeting", "Name", a["Name"])
	r.Mail.Intro = r.L.T("mail.backup_failed.intro", "Since", r.Time("Since"), "Target", a["Target"])
	// The cause in the owner's words; its kinds are package backup's ErrKind names.
	r.Mail.Note = r.L.T("backups.error_" + a["Kind"])
	r.Mail.Action = r.L.T("mail.backup_failed.action")
	r.Mail.Link = r.mailer.link("/settings/backups")
	return nil
}

// backupVoid: a backup that worked since the message was queued withdraws it.
func backupVoid(m *Mailer, _ store.Message, _ string) bool {
	s, err := m.store.BackupStatus()
	return err == nil && s.Failures == 0
}
