"""The morning's reminders: one summary per person each banking morning, with their own cases
due soon or overdue and, for a team lead, what needs attention in each unit they lead; a unit
without a lead escalates to its escalation address or to the administrators.

`queries` reads the morning's lists for every unit and member at once, `digests` says them to
one reader, `operations.send_morning` writes each recipient's record, email and escalations in
one transaction of its own.
"""
