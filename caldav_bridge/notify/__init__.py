"""Notifications (DESIGN.md §5, §7): what a change or a due reminder means for the patient and
the therapist, the messages it needs, and their delivery through a transactional outbox.

- `changes`: pure; old and new event text -> what changed for the patient (or nothing).
- `compose`, `reminders`: pure; which messages, to whom, in which language, with what text.
- `templates`, `formatting`, `ics`, `mime`: the texts, dates in the practice's zone per
  language, the `.ics` attachment, the MIME message.
- `intake`: the watcher's reading of the change log (appointment rows follow their event).
- `outbox`: delivery with leases, retries and reconciliation; `senders`: SMTP, Twilio, files.
"""
