-- Full-text search (server/search/): an FTS5 index over the current text of
-- messages, kept in step with message_index by triggers, so every writer of
-- message_index (the operation log, fediverse replies, channel deletion,
-- rebuilds) updates it in the same transaction.
--
-- search_docs (db/schema.ts) gives each message that is not deleted its
-- index rowid `key`: published milliseconds * 2^10 (1,024) + a counter among
-- messages of the same millisecond. `meta` holds the filter tokens:
-- "msg", "c" + hex(channel), "a" + hex(author), "haslink", "hasfile".
-- message_fts is an external-content table over the view search_content,
-- so the text is stored once (in message_index) and highlight() reads it.
CREATE VIEW `search_content` AS
  SELECT d.`key` AS `key`, m.`content` AS `body`, d.`meta` AS `meta`
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
  INSERT INTO `search_docs` (`key`, `message_id`, `meta`) VALUES (
    (SELECT CASE WHEN n IS NULL THEN v WHEN n < v + 1024 THEN n ELSE (SELECT max(`key`) + 1 FROM `search_docs`) END
      FROM (SELECT v, (SELECT max(`key`) + 1 FROM `search_docs` WHERE `key` >= v AND `key` < v + 1024) AS n
        FROM (SELECT max(0, min(8700000000000, CAST(round((coalesce(julianday(NEW.`published`), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * 1024 AS v))),
    NEW.`id`,
    'msg c' || hex(NEW.`channel`) || ' a' || hex(NEW.`author`) ||
      CASE WHEN NEW.`content` LIKE '%http://%' OR NEW.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN NEW.`attachments` IS NOT NULL AND NEW.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
  );
  INSERT INTO `message_fts` (`rowid`, `body`, `meta`)
    SELECT `key`, NEW.`content`, `meta` FROM `search_docs` WHERE `message_id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `search_message_update` AFTER UPDATE OF `content`, `deleted`, `attachments` ON `message_index`
  WHEN OLD.`content` IS NOT NEW.`content` OR OLD.`deleted` IS NOT NEW.`deleted` OR OLD.`attachments` IS NOT NEW.`attachments`
BEGIN
  INSERT INTO `message_fts` (`message_fts`, `rowid`, `body`, `meta`)
    SELECT 'delete', `key`, OLD.`content`, `meta` FROM `search_docs` WHERE `message_id` = OLD.`id`;
  DELETE FROM `search_docs` WHERE `message_id` = OLD.`id` AND NEW.`deleted` != 0;
  UPDATE `search_docs` SET `meta` =
    'msg c' || hex(NEW.`channel`) || ' a' || hex(NEW.`author`) ||
      CASE WHEN NEW.`content` LIKE '%http://%' OR NEW.`content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
      CASE WHEN NEW.`attachments` IS NOT NULL AND NEW.`attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END
    WHERE `message_id` = NEW.`id`;
  INSERT INTO `message_fts` (`rowid`, `body`, `meta`)
    SELECT `key`, NEW.`content`, `meta` FROM `search_docs` WHERE `message_id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `search_message_delete` AFTER DELETE ON `message_index` BEGIN
  INSERT INTO `message_fts` (`message_fts`, `rowid`, `body`, `meta`)
    SELECT 'delete', `key`, OLD.`content`, `meta` FROM `search_docs` WHERE `message_id` = OLD.`id`;
  DELETE FROM `search_docs` WHERE `message_id` = OLD.`id`;
END;
--> statement-breakpoint
-- Back-fill: the messages an upgraded instance already holds.
INSERT INTO `search_docs` (`key`, `message_id`, `meta`)
  SELECT b + row_number() OVER (PARTITION BY b ORDER BY `lamport`, `id`) - 1, `id`, meta FROM (
    SELECT max(0, min(8700000000000, CAST(round((coalesce(julianday(`published`), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * 1024 AS b,
      `id`, `lamport`,
      'msg c' || hex(`channel`) || ' a' || hex(`author`) ||
        CASE WHEN `content` LIKE '%http://%' OR `content` LIKE '%https://%' THEN ' haslink' ELSE '' END ||
        CASE WHEN `attachments` IS NOT NULL AND `attachments` NOT IN ('', '[]', 'null') THEN ' hasfile' ELSE '' END AS meta
    FROM `message_index` WHERE `deleted` = 0
  );
--> statement-breakpoint
INSERT INTO `message_fts` (`message_fts`) VALUES ('rebuild');
