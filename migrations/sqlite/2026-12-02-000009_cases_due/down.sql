DROP INDEX cases_rectification_due;
DROP INDEX cases_reply_due;
