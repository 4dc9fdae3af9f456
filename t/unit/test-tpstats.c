/* test-tpstats.c - throughput summaries against hand-computed values. */
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "../tap.h"

/* An ok transfer of `bytes` whose receiver saw them from start to end (µs):
 * the server for an upload, the client (reported) for a download.  The
 * sender's stamps are left unknown. */
static struct pingoo_tp_xfer
xok(enum pingoo_tp_dir d, uint32_t seq, uint64_t bytes, int64_t start,
    int64_t end)
{
	struct pingoo_tp_xfer x;

	memset(&x, 0, sizeof(x));
	x.dir = d;
	x.seq = seq;
	x.status = PINGOO_TP_OK;
	x.bytes = bytes;
	x.server_started_at = x.server_finished_at = -1;
	x.client_sent_at = x.client_first_byte_at = x.client_received_at = -1;
	if (d == PINGOO_TP_UPLOAD) {
		x.server_started_at = start;
		x.server_finished_at = end;
	} else {
		x.client_sent_at = x.client_first_byte_at = start;
		x.client_received_at = end;
	}
	return x;
}

#define RX PINGOO_TP_RECEIVER
#define TX PINGOO_TP_SENDER

/* The summary of direction d over the two transfers a and b. */
static struct pingoo_tp_summary
two(enum pingoo_tp_dir d, struct pingoo_tp_xfer a, struct pingoo_tp_xfer b)
{
	struct pingoo_tp_xfer x[2] = { a, b };
	struct pingoo_tp_summary s;

	pingoo_tp_summarize(x, 2, d, 2, &s);
	return s;
}

static int
all_null(const struct pingoo_tp_summary *s)
{
	return s->elapsed_us == -1 && s->bits_per_second == -1 &&
	    s->packet_bps_min == -1 && s->packet_bps_median == -1 &&
	    s->packet_bps_p90 == -1 && s->packet_bps_max == -1;
}

static void
test_rates(void)
{
	struct pingoo_tp_xfer x = xok(PINGOO_TP_DOWNLOAD, 0, 1000, 10, 1010);

	ok(pingoo_tp_duration_us(&x, RX) == 1000,
	    "an ok transfer lasts end - start");
	ok(pingoo_tp_bps(1000, 1000) == 8000000,
	    "1000 bytes in 1 ms is 8 Mbit/s");
	ok(pingoo_tp_bps(1, 3) == 2666667, "rates round to the nearest bit/s");
	ok(pingoo_tp_bps(1000, 0) == -1 && pingoo_tp_bps(1000, -5) == -1,
	    "no rate without a positive duration");
	ok(pingoo_tp_bps(4ULL << 40, 1000000) == 35184372088832LL,
	    "4 TiB in one second does not overflow");
	x.status = PINGOO_TP_FAILED;
	ok(pingoo_tp_duration_us(&x, RX) == -1,
	    "a failed transfer has no duration");
	x.status = PINGOO_TP_OK;
	x.client_received_at = -1;
	ok(pingoo_tp_duration_us(&x, RX) == -1,
	    "a transfer without an end has no duration");
}

static void
test_names(void)
{
	enum pingoo_tp_dir d;

	ok(pingoo_tp_dirs_parse("both") == PINGOO_TP_BOTH &&
	    pingoo_tp_dirs_parse("download") == 1 &&
	    pingoo_tp_dirs_parse("upload") == 2,
	    "download, upload and both parse to their masks");
	ok(pingoo_tp_dirs_parse("Download") == 0 &&
	    pingoo_tp_dirs_parse("") == 0, "other directions are refused");
	ok(pingoo_tp_dir_parse("both", &d) == PINGOO_ERR_INVAL,
	    "a transfer cannot be in both directions");
	ok(strcmp(pingoo_tp_dirs_name(PINGOO_TP_BOTH), "both") == 0 &&
	    pingoo_tp_dirs_name(0) == NULL, "masks name back, 0 has no name");
}

static void
test_empty(void)
{
	struct pingoo_tp_summary s;

	ok(pingoo_tp_summarize(NULL, 0, PINGOO_TP_DOWNLOAD, 8, &s) ==
	    PINGOO_OK && s.packets == 8 && s.received == 0 && s.failed == 0 &&
	    s.bytes == 0 && all_null(&s),
	    "no transfers: zero counts and null rates");
}

static void
test_one(void)
{
	struct pingoo_tp_xfer x = xok(PINGOO_TP_UPLOAD, 0, 1000000, 1000, 2000);
	struct pingoo_tp_summary s;

	pingoo_tp_summarize(&x, 1, PINGOO_TP_UPLOAD, 1, &s);
	ok(s.received == 1 && s.bytes == 1000000 && s.elapsed_us == 1000 &&
	    s.bits_per_second == 8000000000LL,
	    "one packet: 1 MB in 1 ms is 8 Gbit/s overall");
	ok(s.packet_bps_min == 8000000000LL &&
	    s.packet_bps_median == 8000000000LL &&
	    s.packet_bps_p90 == 8000000000LL &&
	    s.packet_bps_max == 8000000000LL,
	    "one packet: min, median, p90 and max are its rate");
	pingoo_tp_summarize(&x, 1, PINGOO_TP_DOWNLOAD, 1, &s);
	ok(s.received == 0 && all_null(&s),
	    "transfers of the other direction are not counted");
}

static void
test_two_overlapping(void)
{
	/* 8 Mbit/s over [0, 1000] and 16 Mbit/s over [200, 700]. */
	struct pingoo_tp_summary s = two(PINGOO_TP_DOWNLOAD,
	    xok(PINGOO_TP_DOWNLOAD, 0, 1000, 0, 1000),
	    xok(PINGOO_TP_DOWNLOAD, 1, 1000, 200, 700));

	ok(s.elapsed_us == 1000 && s.bytes == 2000 &&
	    s.bits_per_second == 16000000,
	    "two parallel packets: elapsed spans both, 2000 B in 1 ms");
	ok(s.packet_bps_min == 8000000 && s.packet_bps_max == 16000000 &&
	    s.packet_bps_median == 12000000 && s.packet_bps_p90 == 16000000,
	    "two packets: median is the mean of both, p90 the larger");
	s = two(PINGOO_TP_DOWNLOAD, xok(PINGOO_TP_DOWNLOAD, 0, 1, 100, 100),
	    xok(PINGOO_TP_DOWNLOAD, 1, 1000, 100, 1100));
	ok(s.received == 2 && s.bytes == 1001 && s.elapsed_us == 1000,
	    "a packet too short for the clock still counts in bytes and time");
	ok(s.packet_bps_min == 8000000 && s.packet_bps_max == 8000000,
	    "... but has no per-packet rate");
}

static void
test_failed(void)
{
	struct pingoo_tp_xfer x[4];
	struct pingoo_tp_summary s;

	x[0] = xok(PINGOO_TP_DOWNLOAD, 0, 1000, 0, 1000);
	x[1] = xok(PINGOO_TP_DOWNLOAD, 1, 300, 1000, 1100);
	x[1].status = PINGOO_TP_FAILED;
	x[2] = xok(PINGOO_TP_DOWNLOAD, 2, 0, 5000, -1);
	x[2].status = PINGOO_TP_STARTED;
	x[3] = xok(PINGOO_TP_UPLOAD, 0, 1000, 0, 10);
	x[3].status = PINGOO_TP_FAILED;
	pingoo_tp_summarize(x, 4, PINGOO_TP_DOWNLOAD, 4, &s);
	ok(s.packets == 4 && s.received == 1 && s.failed == 1,
	    "failed packets are counted apart, started ones not at all");
	ok(s.bytes == 1000 && s.elapsed_us == 1000 &&
	    s.bits_per_second == 8000000,
	    "failed packets add no bytes and no time");
	x[0].status = PINGOO_TP_FAILED;
	pingoo_tp_summarize(x, 4, PINGOO_TP_DOWNLOAD, 4, &s);
	ok(s.received == 0 && s.failed == 2 && s.bytes == 0 && all_null(&s),
	    "only failed packets: null rates");
}

static void
test_unsorted(void)
{
	static const int order[10] = { 7, 2, 10, 1, 9, 4, 6, 3, 8, 5 };
	struct pingoo_tp_xfer x[10];
	struct pingoo_tp_summary s;
	int i;

	/* Packet k moves k * 1000 bytes in 8 ms: k Mbit/s. */
	for (i = 0; i < 10; i++)
		x[i] = xok(PINGOO_TP_UPLOAD, (uint32_t)i,
		    (uint64_t)order[i] * 1000, i * 8000, i * 8000 + 8000);
	pingoo_tp_summarize(x, 10, PINGOO_TP_UPLOAD, 10, &s);
	ok(s.packet_bps_min == 1000000 && s.packet_bps_max == 10000000,
	    "unsorted input: min and max are found");
	ok(s.packet_bps_median == 5500000,
	    "ten packets: the median is the mean of the 5th and 6th");
	ok(s.packet_bps_p90 == 9000000, "ten packets: p90 is the 9th value");
	ok(s.elapsed_us == 80000 && s.bytes == 55000 &&
	    s.bits_per_second == 5500000,
	    "back-to-back packets: 55 kB in 80 ms");
	pingoo_tp_summarize(x, 3, PINGOO_TP_UPLOAD, 10, &s);
	ok(s.packet_bps_median == 7000000 && s.packet_bps_p90 == 10000000,
	    "three packets (7, 2, 10): median 7, p90 10");
	s = two(PINGOO_TP_UPLOAD, xok(PINGOO_TP_UPLOAD, 1, 3, 0, 2),
	    xok(PINGOO_TP_UPLOAD, 0, 1, 0, 2));		/* 12 and 4 Mbit/s */
	ok(s.packet_bps_median == 8000000,
	    "an even median is exact when the mean is whole");
	s = two(PINGOO_TP_UPLOAD, xok(PINGOO_TP_UPLOAD, 0, 1, 0, 3),
	    xok(PINGOO_TP_UPLOAD, 1, 1, 0, 4));	/* 2666667 and 2000000 */
	ok(s.packet_bps_median == 2333334,
	    "an even median halfway between two rates rounds up, as "
	    "pingoo_median does");
}

/*
 * Where each figure is measured.  Three 1 MB downloads: the server wrote
 * each in 500 µs (socket buffers absorb them); the client saw the bytes of
 * two of them arrive over 8 ms and 2 ms, overlapping from 1000 to 9000, and
 * has not reported the third.
 */
static void
test_sides(void)
{
	struct pingoo_tp_xfer x[3];
	struct pingoo_tp_summary s;
	int64_t a, b;
	int i;

	for (i = 0; i < 3; i++) {
		x[i] = xok(PINGOO_TP_DOWNLOAD, (uint32_t)i, 1000000, -1, -1);
		x[i].client_sent_at = x[i].client_first_byte_at = -1;
		x[i].server_started_at = 100 * (i + 1);
		x[i].server_finished_at = 100 * (i + 1) + 500;
	}
	x[0].client_sent_at = 900;
	x[0].client_first_byte_at = 1000;
	x[0].client_received_at = 9000;
	x[1].client_sent_at = 4000;
	x[1].client_first_byte_at = 5000;
	x[1].client_received_at = 7000;
	ok(pingoo_tp_span(&x[0], RX, &a, &b) == 8000 && a == 1000 && b == 9000,
	    "a download's receiver interval is the client's first to last byte");
	ok(pingoo_tp_duration_us(&x[0], TX) == 500,
	    "a download's sender interval is the server's");
	ok(pingoo_tp_duration_us(&x[2], RX) == -1,
	    "an unreported download has no receiver interval");
	pingoo_tp_summarize(x, 3, PINGOO_TP_DOWNLOAD, 3, &s);
	ok(s.received == 3 && s.reported == 2 && s.report_missing,
	    "an unreported download packet says its report is missing");
	ok(s.elapsed_us == 8000 && s.bits_per_second == 2000000000,
	    "the headline rate is the client's: 2 MB in 8 ms is 2 Gbit/s");
	ok(s.packet_bps_min == 1000000000 && s.packet_bps_max == 4000000000LL,
	    "per-packet rates are the client's: 1 MB in 8 ms and in 2 ms");
	ok(s.sender_elapsed_us == 700 && s.sender_bits_per_second == 34285714286,
	    "the server's view is kept apart as the sender's");
	x[0].client_received_at = x[1].client_received_at = -1;
	pingoo_tp_summarize(x, 3, PINGOO_TP_DOWNLOAD, 3, &s);
	ok(s.reported == 0 && s.report_missing && all_null(&s) &&
	    s.sender_bits_per_second > 0,
	    "with nothing reported the download's headline figures are null");

	x[0] = xok(PINGOO_TP_UPLOAD, 0, 1000, 0, 1000);
	x[0].client_sent_at = 0;
	x[0].client_received_at = 4000;
	ok(pingoo_tp_duration_us(&x[0], RX) == 1000 &&
	    pingoo_tp_duration_us(&x[0], TX) == 4000,
	    "an upload's receiver is the server, its sender the client");
	pingoo_tp_summarize(x, 1, PINGOO_TP_UPLOAD, 1, &s);
	ok(!s.report_missing && s.bits_per_second == 8000000 &&
	    s.sender_bits_per_second == 2000000,
	    "an upload's figures never wait for a report");
}

/* A download whose worker died before recording it, settled ok by the
 * client's report: no server end stamp, the client's stamps only. */
static void
test_settled_by_report(void)
{
	struct pingoo_tp_xfer x[2] = {
		xok(PINGOO_TP_DOWNLOAD, 0, 1000, 0, 1000),
		xok(PINGOO_TP_DOWNLOAD, 1, 1000, 500, 1500),
	};
	struct pingoo_tp_summary s;

	x[0].server_started_at = 0;
	x[0].server_finished_at = 100;
	x[1].server_started_at = 400;
	pingoo_tp_summarize(x, 2, PINGOO_TP_DOWNLOAD, 2, &s);
	ok(s.received == 2 && s.bytes == 2000 && s.reported == 2,
	    "a packet settled by the client's report counts as received");
	ok(s.elapsed_us == 1500 && s.bits_per_second == 10666667,
	    "its receiver figures are the client's, as for any download");
	ok(s.sender_elapsed_us == 100 && s.sender_bits_per_second == 80000000,
	    "the sender's figures cover only the packets the server timed");
}

/* The probes of a test: which count, and as what. */
static void
test_probe_latency(void)
{
	const struct pingoo_tp_probe p[] = {
		{ 0, PINGOO_PHASE_IDLE, 1000, 1100, 1200, 4000 },	/* 3 ms */
		{ 1, PINGOO_PHASE_IDLE, 5000, 5100, 5200, 9000 },	/* 4 ms */
		{ 2, PINGOO_PHASE_UPLOAD, 9000, 9100, 9200, 59000 },	/* 50 ms */
		{ 3, PINGOO_PHASE_UPLOAD, 9000, 9100, 9200, -1 },	/* pending */
		{ 4, PINGOO_PHASE_UPLOAD, 9000, -1, -1, -1 },		/* lost */
	};
	struct pingoo_latency_summary ls;

	ok(pingoo_tp_latency(p, 5, 0, &ls) == PINGOO_OK &&
	    ls.phase[PINGOO_PHASE_IDLE].samples == 2 &&
	    ls.phase[PINGOO_PHASE_UPLOAD].samples == 1 &&
	    ls.phase[PINGOO_PHASE_UPLOAD].lost == 1 &&
	    ls.phase[PINGOO_PHASE_UPLOAD].rise_median_us == 50000 - 3500 &&
	    ls.grade == PINGOO_GRADE_B && ls.responsiveness_rpm == 1200,
	    "while the test runs, an echoed probe without its receipt is "
	    "pending and one reported lost counts as lost");
	ok(pingoo_tp_latency(p, 5, 1, &ls) == PINGOO_OK &&
	    ls.phase[PINGOO_PHASE_UPLOAD].lost == 2 &&
	    !ls.phase[PINGOO_PHASE_DOWNLOAD].present,
	    "once the test has ended, every probe without an answer is lost");
	ok(pingoo_tp_latency(p, 0, 1, &ls) == PINGOO_OK &&
	    ls.grade == PINGOO_GRADE_NONE && ls.responsiveness_rpm == -1,
	    "a test without probes has no grade and no RPM");
}

int
main(void)
{
	test_sides();
	test_rates();
	test_names();
	test_empty();
	test_one();
	test_two_overlapping();
	test_failed();
	test_settled_by_report();
	test_unsorted();
	test_probe_latency();
	return tap_done();
}
