-- Full-text search (server/search/): an FTS5 index over the current text of
-- messages, kept in step with message_index by triggers, so that every writer
-- of message_index (the operation log, fediverse replies, channel deletion,
-- rebuilds, and whatever comes next) updates it in its own transaction.
--
-- search_docs (db/schema.ts) gives each message that is not deleted its index
-- rowid `key`: published milliseconds * 1,024 + a counter among messages of
-- the same millisecond (past 1,024 of them: one more than the largest key).
-- message_fts is an external-content table over the view search_content, so
-- the text is stored once (in message_index) and snippet() reads it there.
-- Its `meta` column holds filter tokens computed from the row: "msg", "c" +
-- hex(channel), "a" + hex(author), "haslink", "hasfile". The view and the
-- triggers compute them with the same expression (an external-content index
-- must be told exactly what it indexed when a row leaves it).
CREATE VIEW `search_content` AS
  SELECT d.`key` AS `key`, m.`content` AS `body`,
    'msg c' || hex(m.`channel`) || ' a' || hex(m.`author`) ||
      CASE WHEN m.`content` LIKE '%http://%' OR m.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN m.`attachments` IS NOT NULL AND m.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END AS `meta`
  FROM `search_docs` d JOIN `message_index` m ON m.`id` = d.`message_id`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `message_fts` USING fts5(
  body, meta,
  content = 'search_content', content_rowid = 'key',
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);
--> statement-breakpoint
CREATE TRIGGER `search_message_insert` AFTER INSERT ON `message_index` WHEN NEW.`deleted` = 0 BEGIN
  INSERT INTO `search_docs` (`key`, `message_id`) VALUES (
    (SELECT CASE WHEN n IS NULL THEN v WHEN n < v + 1024 THEN n ELSE (SELECT max(`key`) + 1 FROM `search_docs`) END
      FROM (SELECT v, (SELECT max(`key`) + 1 FROM `search_docs` WHERE `key` >= v AND `key` < v + 1024) AS n
        FROM (SELECT max(0, min(8700000000000, CAST(round((coalesce(julianday(NEW.`published`), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * 1024 AS v))),
    NEW.`id`);
  INSERT INTO `message_fts` (`rowid`, `body`, `meta`)
    SELECT `key`, NEW.`content`,
      'msg c' || hex(NEW.`channel`) || ' a' || hex(NEW.`author`) ||
      CASE WHEN NEW.`content` LIKE '%http://%' OR NEW.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN NEW.`attachments` IS NOT NULL AND NEW.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
    FROM `search_docs` WHERE `message_id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `search_message_update` AFTER UPDATE OF `content`, `deleted`, `attachments`, `channel`, `author` ON `message_index`
  WHEN OLD.`content` IS NOT NEW.`content` OR OLD.`deleted` IS NOT NEW.`deleted` OR OLD.`attachments` IS NOT NEW.`attachments`
    OR OLD.`channel` IS NOT NEW.`channel` OR OLD.`author` IS NOT NEW.`author`
BEGIN
  INSERT INTO `message_fts` (`message_fts`, `rowid`, `body`, `meta`)
    SELECT 'delete', `key`, OLD.`content`,
      'msg c' || hex(OLD.`channel`) || ' a' || hex(OLD.`author`) ||
      CASE WHEN OLD.`content` LIKE '%http://%' OR OLD.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN OLD.`attachments` IS NOT NULL AND OLD.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
    FROM `search_docs` WHERE `message_id` = OLD.`id`;
  DELETE FROM `search_docs` WHERE `message_id` = OLD.`id` AND NEW.`deleted` != 0;
  INSERT INTO `search_docs` (`key`, `message_id`)
    SELECT (SELECT CASE WHEN n IS NULL THEN v WHEN n < v + 1024 THEN n ELSE (SELECT max(`key`) + 1 FROM `search_docs`) END
      FROM (SELECT v, (SELECT max(`key`) + 1 FROM `search_docs` WHERE `key` >= v AND `key` < v + 1024) AS n
        FROM (SELECT max(0, min(8700000000000, CAST(round((coalesce(julianday(NEW.`published`), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * 1024 AS v))), NEW.`id`
    WHERE NEW.`deleted` = 0 AND NOT EXISTS (SELECT 1 FROM `search_docs` WHERE `message_id` = NEW.`id`);
  INSERT INTO `message_fts` (`rowid`, `body`, `meta`)
    SELECT `key`, NEW.`content`,
      'msg c' || hex(NEW.`channel`) || ' a' || hex(NEW.`author`) ||
      CASE WHEN NEW.`content` LIKE '%http://%' OR NEW.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN NEW.`attachments` IS NOT NULL AND NEW.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
    FROM `search_docs` WHERE `message_id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `search_message_delete` AFTER DELETE ON `message_index` BEGIN
  INSERT INTO `message_fts` (`message_fts`, `rowid`, `body`, `meta`)
    SELECT 'delete', `key`, OLD.`content`,
      'msg c' || hex(OLD.`channel`) || ' a' || hex(OLD.`author`) ||
      CASE WHEN OLD.`content` LIKE '%http://%' OR OLD.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN OLD.`attachments` IS NOT NULL AND OLD.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
    FROM `search_docs` WHERE `message_id` = OLD.`id`;
  DELETE FROM `search_docs` WHERE `message_id` = OLD.`id`;
END;
--> statement-breakpoint
-- Back-fill: the messages an upgraded instance already holds.
INSERT INTO `search_docs` (`key`, `message_id`)
  SELECT b + row_number() OVER (PARTITION BY b ORDER BY `lamport`, `id`) - 1, `id` FROM (
    SELECT max(0, min(8700000000000, CAST(round((coalesce(julianday(`published`), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * 1024 AS b, `id`, `lamport`
    FROM `message_index` WHERE `deleted` = 0
  );
--> statement-breakpoint
INSERT INTO `message_fts` (`message_fts`) VALUES ('rebuild');
