-- The dashboard's overdue cases (a reply while forwarded, a rectification while rectifying):
-- found by status and deadline, a range of a few rows however many cases there are.
CREATE INDEX cases_reply_due ON cases (status, reply_due);
CREATE INDEX cases_rectification_due ON cases (status, rectification_due);
