ALTER TABLE hospitals DROP COLUMN event_chain_head;
