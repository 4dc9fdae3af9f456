/* test-export.c - one export record as a CSV row or an NDJSON line. */
#include <string.h>

#include <json.h>

#include "export/export.h"
#include "measure/measure.h"
#include "../tap.h"

static char buf[4096];

static const char *
fmt(enum pingoo_export_format f, const struct pingoo_export_rec *r)
{
	if (pingoo_export_format(f, r, buf, sizeof(buf)) < 0)
		return "";
	return buf;
}

/* The number of fields of a CSV line outside quotes. */
static int
fields(const char *s)
{
	int n = 1, q = 0;

	for (; *s != '\0' && *s != '\r'; s++) {
		if (*s == '"')
			q = !q;
		else if (*s == ',' && !q)
			n++;
	}
	return n;
}

/* 1 when every column of the header line is named, [a-z0-9_]+ (a gap in
 * the table of names would print empty or as "(null)"), no name twice. */
static int
header_named(const char *head)
{
	const char *p = head, *q, *r;
	size_t len;

	for (;;) {
		len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (len == 0 || (p[len] != ',' && p[len] != '\r')) {
			diag("column at byte %zu is not named", (size_t)(p - head));
			return 0;
		}
		/* The same name earlier in the line, as a whole column. */
		for (q = head; q < p; q = r + 1) {
			r = q + strcspn(q, ",");
			if ((size_t)(r - q) == len && memcmp(q, p, len) == 0) {
				diag("column %.*s twice", (int)len, p);
				return 0;
			}
		}
		if (p[len] == '\r')
			return strcmp(p + len, "\r\n") == 0;
		p += len + 1;
	}
}

int
main(void)
{
	struct pingoo_export_rec r;
	struct json_object *o, *v;
	const char *head = pingoo_export_csv_header();
	char small[16];

	ok(strncmp(head, "record,test_id,state,created_at,", 32) == 0 &&
	    strcmp(head + strlen(head) - 2, "\r\n") == 0,
	    "the CSV header names the columns and ends with CRLF");
	ok(header_named(head), "every column of the header has a name of its "
	    "own");

	memset(&r, 0, sizeof(r));
	r.type = PINGOO_EXPORT_PING_TEST;
	r.test_id = 7;
	r.test.state = "complete";
	r.test.created_at = 100;
	r.test.finished_at = -1;
	r.test.count = 3;
	r.test.interval_ms = -1;
	r.test.client = "{\"network_type\":\"wifi, 5 GHz\",\"os\":\"a\\\"b\"}";
	fmt(PINGOO_EXPORT_CSV, &r);
	ok(strncmp(buf, "ping_test,7,complete,100,,3,,,,,\"{\"\"network_type\"\"", 48)
	    == 0, "a test row: absent values empty, the client quoted with its "
	    "quotes doubled");
	ok(fields(buf) == fields(head), "every row has the header's columns");
	fmt(PINGOO_EXPORT_NDJSON, &r);
	o = json_tokener_parse(buf);
	ok(o != NULL && buf[strlen(buf) - 1] == '\n', "an NDJSON line is JSON "
	    "and ends with LF");
	ok(json_object_object_get_ex(o, "type", &v) &&
	    strcmp(json_object_get_string(v), "ping_test") == 0 &&
	    json_object_object_get_ex(o, "finished_at", &v) && v == NULL &&
	    json_object_object_get_ex(o, "client", &v) &&
	    json_object_is_type(v, json_type_object) &&
	    !json_object_object_get_ex(o, "seq", &v),
	    "its fields: type, nulls kept, the client as an object, no item "
	    "field");
	json_object_put(o);

	memset(&r, 0, sizeof(r));
	r.type = PINGOO_EXPORT_PING_SAMPLE;
	r.test_id = 7;
	r.sample.seq = 2;
	r.sample.t0 = 1000;
	r.sample.t1 = 1100;
	r.sample.t2 = 1150;
	r.sample.t3 = 1300;
	r.sample.has_t3 = 1;
	fmt(PINGOO_EXPORT_NDJSON, &r);
	ok(strcmp(buf, "{\"type\":\"ping_sample\",\"test_id\":7,\"seq\":2,"
	    "\"client_sent_at\":1000,\"server_received_at\":1100,"
	    "\"server_sent_at\":1150,\"client_received_at\":1300,\"rtt_us\":300,"
	    "\"server_us\":50,\"network_rtt_us\":250,\"offset_us\":-25}\n") == 0,
	    "a sample carries its stamps and what they give");
	r.sample.has_t3 = 0;
	fmt(PINGOO_EXPORT_CSV, &r);
	ok(strstr(buf, ",1000,1100,1150,,,50,,,") != NULL,
	    "without its receipt, t3 and what needs it are empty");

	memset(&r, 0, sizeof(r));
	r.type = PINGOO_EXPORT_TRANSFER;
	r.test_id = 9;
	r.xfer.dir = PINGOO_TP_UPLOAD;
	r.xfer.seq = 1;
	r.xfer.status = PINGOO_TP_OK;
	r.xfer.bytes = 1000000;
	r.xfer.server_started_at = 0 + 5000000;
	r.xfer.server_finished_at = 1000000 + 5000000;
	r.xfer.client_sent_at = 4000000;
	r.xfer.client_first_byte_at = -1;
	r.xfer.client_received_at = 6500000;
	fmt(PINGOO_EXPORT_NDJSON, &r);
	o = json_tokener_parse(buf);
	ok(o != NULL && json_object_object_get_ex(o, "bits_per_second", &v) &&
	    json_object_get_int64(v) == 8000000 &&
	    json_object_object_get_ex(o, "sender_bits_per_second", &v) &&
	    json_object_get_int64(v) == 3200000,
	    "an upload's rate is the server's, the client's pace is the "
	    "sender's");
	json_object_put(o);

	memset(&r, 0, sizeof(r));
	r.type = PINGOO_EXPORT_PROBE;
	r.test_id = 9;
	r.probe.seq = 4;
	r.probe.phase = PINGOO_PHASE_UPLOAD;
	r.probe.t0 = 1000;
	r.probe.t1 = 1100;
	r.probe.t2 = 1150;
	r.probe.t3 = 1300;
	fmt(PINGOO_EXPORT_NDJSON, &r);
	ok(strcmp(buf, "{\"type\":\"probe\",\"test_id\":9,\"seq\":4,"
	    "\"client_sent_at\":1000,\"server_received_at\":1100,"
	    "\"server_sent_at\":1150,\"client_received_at\":1300,\"rtt_us\":300,"
	    "\"server_us\":50,\"phase\":\"upload\"}\n") == 0,
	    "a probe carries its phase, its stamps and what they give");
	r.probe.t1 = r.probe.t2 = r.probe.t3 = -1;
	fmt(PINGOO_EXPORT_CSV, &r);
	ok(strncmp(buf, "probe,9,", 8) == 0 &&
	    strstr(buf, ",4,,,1000,,,,,,") != NULL &&
	    strstr(buf, ",upload,,\r\n") != NULL &&
	    fields(buf) == fields(head),
	    "a probe lost before the server: its stamps, RTT and server time "
	    "empty");

	memset(&r, 0, sizeof(r));
	r.type = PINGOO_EXPORT_END;
	r.tests = 2;
	r.records = 5;
	ok(strcmp(fmt(PINGOO_EXPORT_NDJSON, &r),
	    "{\"type\":\"end\",\"tests\":2,\"records\":5}\n") == 0,
	    "the end record counts tests and records");
	fmt(PINGOO_EXPORT_CSV, &r);
	ok(strncmp(buf, "end,,", 5) == 0 && strstr(buf, ",2,5\r\n") != NULL &&
	    fields(buf) == fields(head), "and as the last CSV row");
	ok(pingoo_export_format(PINGOO_EXPORT_CSV, &r, small, sizeof(small)) ==
	    -1, "a record that does not fit is refused, never cut");
	ok(pingoo_group_parse("day", 3) == PINGOO_GROUP_DAY &&
	    pingoo_group_parse("days", 4) == -1 &&
	    strcmp(pingoo_group_name(PINGOO_GROUP_CARRIER), "carrier") == 0,
	    "group names parse both ways");
	return tap_done();
}
