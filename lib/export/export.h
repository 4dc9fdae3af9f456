/*
 * export.h - a user's data out, for analysis: every test with its samples
 * and transfers as records (CSV or NDJSON, formatted here one record at a
 * time so an export of any size streams in constant memory), and the
 * aggregates over groups of tests (lib/store/data.c computes both).
 */
#ifndef PINGOO_EXPORT_H
#define PINGOO_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "measure/measure.h"

/* What kinds of test an export or an aggregate covers. */
#define PINGOO_KIND_PING	0x1
#define PINGOO_KIND_TP		0x2
#define PINGOO_KIND_ALL		(PINGOO_KIND_PING | PINGOO_KIND_TP)

/* What an export or an aggregate reads: tests created in [from, to) of
 * the kinds named, grouped (aggregates only) by group. */
struct pingoo_export_query {
	int64_t		 from, to;	/* µs since the epoch */
	unsigned	 kinds;		/* PINGOO_KIND_* bits */
	int		 group;		/* enum pingoo_group */
};

/* The record types.  A new item type is one more entry here, its columns
 * in export.c and its query in lib/store/data.c. */
enum pingoo_export_type {
	PINGOO_EXPORT_PING_TEST,
	PINGOO_EXPORT_PING_SAMPLE,
	PINGOO_EXPORT_TP_TEST,
	PINGOO_EXPORT_TRANSFER,
	PINGOO_EXPORT_PROBE,		/* a throughput test's latency probe */
	PINGOO_EXPORT_END,		/* the last record: the export is whole */
	PINGOO_EXPORT__TYPES
};

enum pingoo_export_format {
	PINGOO_EXPORT_CSV,
	PINGOO_EXPORT_NDJSON
};

/* A test's own columns.  Numbers are -1 where they do not apply. */
struct pingoo_export_test {
	const char	*state;
	int64_t		 created_at;
	int64_t		 finished_at;	/* closed_at of a ping test; -1 */
	int64_t		 count;		/* ping */
	int64_t		 interval_ms;	/* ping; -1 when not given */
	const char	*direction;	/* throughput: download, upload, both */
	int64_t		 packets;	/* throughput, per direction */
	int64_t		 packet_size;
	const char	*client;	/* canonical JSON, or NULL */
};

struct pingoo_export_rec {
	enum pingoo_export_type	 type;
	uint64_t		 test_id;	/* 0 for END */
	struct pingoo_export_test test;		/* *_TEST */
	struct pingoo_sample	 sample;	/* PING_SAMPLE */
	struct pingoo_tp_xfer	 xfer;		/* TRANSFER */
	struct pingoo_tp_probe	 probe;		/* PROBE: stamps -1 absent */
	uint64_t		 tests, records;	/* END: how many came */
};

/* export.c */
/* The CSV header line (with its CRLF). */
const char	*pingoo_export_csv_header(void);
/* The name of a record type ("ping_test", ...). */
const char	*pingoo_export_type_name(enum pingoo_export_type);
/* Formats one record as a CSV row (CRLF) or an NDJSON line (LF) into
 * buf[cap].  Returns its length, or -1 when it does not fit (a client
 * field of max_client_bytes fits in 4 times its size plus 1 KiB). */
int		 pingoo_export_format(enum pingoo_export_format,
		    const struct pingoo_export_rec *, char *buf, size_t cap);

/* How tests are grouped by the aggregates. */
enum pingoo_group {
	PINGOO_GROUP_NETWORK_TYPE,	/* client.network_type */
	PINGOO_GROUP_PLATFORM,		/* client.platform */
	PINGOO_GROUP_CARRIER,		/* client.carrier */
	PINGOO_GROUP_DAY,		/* UTC day of created_at */
	PINGOO_GROUP__MAX
};
const char	*pingoo_group_name(enum pingoo_group);
/* -1 when s names no group. */
int		 pingoo_group_parse(const char *s, size_t len);

/* One group's figures; -1 where there is nothing to measure. */
struct pingoo_agg_dir {
	int64_t		 tests;		/* tests with a receiver-side rate */
	int64_t		 bps_median;	/* of the tests' bits_per_second */
	int64_t		 bps_p90;
};
struct pingoo_agg {
	char		 key[130];	/* the client's value or YYYY-MM-DD */
	int		 key_null;	/* the tests did not say */
	int64_t		 ping_tests, ping_planned, ping_received;
	int64_t		 rtt_median_us, rtt_p90_us;
	int64_t		 tp_tests;
	struct pingoo_agg_dir dir[2];	/* PINGOO_TP_DOWNLOAD, _UPLOAD */
	/* The median over the tests of each one's largest rise of latency
	 * under load (a phase's median RTT over the idle one; may be < 0). */
	int		 has_rise;
	int64_t		 rise_median_us;
};

#endif
