package store

import bolt "go.etcd.io/bbolt"

type boltTx = bolt.Tx

// WriteAsSchema13 leaves the open store's file as Foyer left it before the
// journal's head was signed: schema 13, the head as the sequence number and
// the last MAC in clear, the data keys wrapped without the mark.
func WriteAsSchema13(s *Store) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketJournalMeta)
		h := s.journalHead(meta)
		if err := meta.Put(keyJournalHead, append(itob(h.Seq), h.Last...)); err != nil {
			return err
		}
		var sec Secrets
		if err := getJSON(tx, bucketMeta, keySecrets, &sec); err != nil {
			return err
		}
		wrapped, err := wrapDataKeys(s.secretKey, dataKeys{HMAC: s.hmacKey, Seal: s.sealKey})
		if err != nil {
			return err
		}
		sec.Wrapped = wrapped
		if err := putJSON(tx, bucketMeta, keySecrets, sec); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(13))
	})
}
