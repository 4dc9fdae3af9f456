-- 008: the stamps that arrive after a row is written (a packet's end and
-- the client's report, a sample's or a probe's receipt, a test's end) are
-- written in place.  In the REDUNDANT row format a NULL in a fixed-length
-- column keeps the column's bytes in the row, so setting it changes no
-- row's size; in the default (DYNAMIC) format the row grows, and InnoDB may
-- have to move it to another page.  With the database's disk full, MariaDB
-- 10.11 lost a row that way: a report's UPDATE failed ("table is full"),
-- and afterwards the packet's row was gone from the primary key while its
-- entry in throughput_transfers_started remained.  A rebuild of each table.
ALTER TABLE ping_samples ROW_FORMAT=REDUNDANT;
ALTER TABLE throughput_transfers ROW_FORMAT=REDUNDANT;
ALTER TABLE throughput_probes ROW_FORMAT=REDUNDANT;
ALTER TABLE throughput_tests ROW_FORMAT=REDUNDANT;
ALTER TABLE ping_tests ROW_FORMAT=REDUNDANT;
