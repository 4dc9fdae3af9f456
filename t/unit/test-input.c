/* test-input.c - the validators of request bodies and list queries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "auth/auth.h"
#include "core/core.h"
#include "export/export.h"
#include "input/input.h"
#include "measure/measure.h"
#include "../tap.h"

static struct pingoo_config cfg;

/* Runs validator v on the JSON text (or the query when json is NULL). */
static enum pingoo_err
run(pingoo_validator v, const char *json, const char *query,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	struct pingoo_input_src src;
	struct json_object *o = NULL;
	enum pingoo_err e;

	memset(&src, 0, sizeof(src));
	memset(f, 0, sizeof(*f));
	src.cfg = &cfg;
	src.query = query;
	src.test_id = 7;
	src.user_id = 3;
	if (json != NULL && pingoo_json_parse(json, strlen(json), 8, &o, f) !=
	    PINGOO_OK)
		return f->err;
	src.body = o;
	e = v(&src, in, f);
	if (o != NULL)
		json_object_put(o);
	return e;
}

/* 1 when v refuses the body with this error, code and field. */
static int
refuses(pingoo_validator v, const char *json, const char *query,
    enum pingoo_err err, const char *code, const char *field)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	if (run(v, json, query, &in, &f) == PINGOO_OK) {
		pingoo_input_clear(&in);
		return 0;
	}
	if (f.err != err || f.code == NULL || strcmp(f.code, code) != 0 ||
	    strcmp(f.field, field) != 0) {
		diag("got %d %s field '%s': %s", f.err, f.code ? f.code : "-",
		    f.field, f.message);
		return 0;
	}
	return 1;
}

static void
test_ping_create(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_ping_create, "{\"count\":10,\"interval_ms\":100,"
	    "\"client\":{\"platform\":\"ios\"}}", NULL, &in, &f) == PINGOO_OK &&
	    in.kind == PINGOO_IN_PING_CREATE && in.u.ping_create.count == 10 &&
	    in.u.ping_create.interval_ms == 100 &&
	    in.u.ping_create.client != NULL,
	    "a ping create body gives count, interval and the client");
	pingoo_input_clear(&in);
	ok(in.kind == PINGOO_IN_NONE, "a cleared input owns nothing");
	ok(run(pingoo_in_ping_create, "{\"count\":1}", NULL, &in, &f) ==
	    PINGOO_OK && in.u.ping_create.interval_ms == -1 &&
	    in.u.ping_create.client == NULL,
	    "interval and client are optional");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_ping_create, "{}", NULL, PINGOO_ERR_INVAL,
	    "missing_field", "count"), "a missing count is refused");
	ok(refuses(pingoo_in_ping_create, "{\"count\":0}", NULL,
	    PINGOO_ERR_RANGE, "out_of_range", "count"),
	    "count 0 is out of range");
	ok(refuses(pingoo_in_ping_create, "{\"count\":100001}", NULL,
	    PINGOO_ERR_TOOBIG, "limit_exceeded", "count"),
	    "count past ping_max_count names the limit");
	ok(refuses(pingoo_in_ping_create, "{\"count\":2,\"x\":1}", NULL,
	    PINGOO_ERR_INVAL, "unknown_field", "x"),
	    "an unknown key is refused");
}

static void
test_echo(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_echo, "{\"seq\":0,\"client_sent_at\":1700000000000000}",
	    NULL, &in, &f) == PINGOO_OK && in.u.echo.seq == 0 &&
	    in.u.echo.client_sent_at == 1700000000000000LL,
	    "an echo body gives seq and client_sent_at");
	ok(refuses(pingoo_in_echo, "{\"seq\":-1,\"client_sent_at\":1}", NULL,
	    PINGOO_ERR_RANGE, "out_of_range", "seq"),
	    "a negative seq is out of range");
	ok(refuses(pingoo_in_echo, "{\"seq\":1,\"client_sent_at\":"
	    "9007199254740993}", NULL, PINGOO_ERR_RANGE, "out_of_range",
	    "client_sent_at"), "a stamp past 2^53 is out of range");
	ok(refuses(pingoo_in_echo, "{\"seq\":\"1\",\"client_sent_at\":1}",
	    NULL, PINGOO_ERR_INVAL, "invalid_field", "seq"),
	    "a seq given as a string is refused");
}

static void
test_receipts(void)
{
	struct pingoo_sample s = { 4, 100, 200, 300, 0, 0 };
	struct pingoo_input in;
	struct pingoo_fault f;
	char sig[PINGOO_SIG_LEN + 1], body[512];

	ok(run(pingoo_in_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"client_received_at\":5},{\"seq\":2,\"client_received_at\":6}]}",
	    NULL, &in, &f) == PINGOO_OK && in.u.receipts.n == 2 &&
	    in.u.receipts.v[1].seq == 2 && in.u.receipts.v[1].t3 == 6 &&
	    !in.u.receipts.v[0].has_stamps, "two receipts are read in order");
	pingoo_input_clear(&in);
	pingoo_sample_sign(cfg.jwt_sample_key, cfg.jwt_sample_key_len, 7, 3, &s, sig);
	snprintf(body, sizeof(body), "{\"receipts\":[{\"seq\":4,"
	    "\"client_received_at\":400,\"client_sent_at\":100,"
	    "\"server_received_at\":200,\"server_sent_at\":300,\"sig\":\"%s\"}]}",
	    sig);
	ok(run(pingoo_in_receipts, body, NULL, &in, &f) == PINGOO_OK &&
	    in.u.receipts.v[0].has_stamps && in.u.receipts.v[0].t1 == 200,
	    "stamps with the server's signature come back");
	pingoo_input_clear(&in);
	sig[0] = sig[0] == '0' ? '1' : '0';
	snprintf(body, sizeof(body), "{\"receipts\":[{\"seq\":4,"
	    "\"client_received_at\":400,\"client_sent_at\":100,"
	    "\"server_received_at\":200,\"server_sent_at\":300,\"sig\":\"%s\"}]}",
	    sig);
	ok(refuses(pingoo_in_receipts, body, NULL, PINGOO_ERR_RANGE,
	    "invalid_sig", "receipts[0].sig"), "a forged signature is refused");
	ok(refuses(pingoo_in_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"client_received_at\":5,\"sig\":\"ab\"}]}", NULL, PINGOO_ERR_INVAL,
	    "missing_field", "receipts[0].sig"),
	    "a sig without the stamps it covers is refused");
	ok(refuses(pingoo_in_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"client_received_at\":5},{\"seq\":2}]}", NULL, PINGOO_ERR_INVAL,
	    "missing_field", "receipts[1].client_received_at"),
	    "a fault in an item names the item");
}

/* The five refusals every array body makes, and the non-object item. */
static void
test_arrays(pingoo_validator v, const char *key, int max, const char *item)
{
	char body[8192], bad[256];
	size_t n;
	int i;

	snprintf(bad, sizeof(bad), "{\"%s\":[],\"x\":1}", key);
	ok(refuses(v, bad, NULL, PINGOO_ERR_INVAL, "unknown_field", "x"),
	    "%s: another key is refused", key);
	ok(refuses(v, "{}", NULL, PINGOO_ERR_INVAL, "missing_field", key),
	    "%s: a missing array is refused", key);
	snprintf(bad, sizeof(bad), "{\"%s\":{}}", key);
	ok(refuses(v, bad, NULL, PINGOO_ERR_INVAL, "invalid_field", key),
	    "%s: an object for the array is refused", key);
	snprintf(bad, sizeof(bad), "{\"%s\":[]}", key);
	ok(refuses(v, bad, NULL, PINGOO_ERR_RANGE, "out_of_range", key),
	    "%s: an empty array is refused", key);
	n = (size_t)snprintf(body, sizeof(body), "{\"%s\":[", key);
	for (i = 0; i <= max; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s%s",
		    i > 0 ? "," : "", item);
	snprintf(body + n, sizeof(body) - n, "]}");
	ok(refuses(v, body, NULL, PINGOO_ERR_TOOBIG, "limit_exceeded", key),
	    "%s: one item past the limit is refused", key);
	snprintf(bad, sizeof(bad), "{\"%s\":[%s,5]}", key, item);
	snprintf(body, sizeof(body), "%s[1]", key);
	ok(refuses(v, bad, NULL, PINGOO_ERR_INVAL, "invalid_field", body),
	    "%s: an item that is not an object is refused by its index", key);
}

static void
test_tp_create(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_tp_create, "{\"direction\":\"both\",\"packets\":4,"
	    "\"packet_size\":65536}", NULL, &in, &f) == PINGOO_OK &&
	    in.u.tp_create.dirs == PINGOO_TP_BOTH &&
	    in.u.tp_create.packets == 4 && in.u.tp_create.packet_size == 65536,
	    "a throughput create body gives directions, packets and size");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"sideways\","
	    "\"packets\":4,\"packet_size\":65536}", NULL, PINGOO_ERR_INVAL,
	    "invalid_field", "direction"), "an unknown direction is refused");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"packets\":0,\"packet_size\":65536}", NULL, PINGOO_ERR_RANGE,
	    "out_of_range", "packets"), "zero packets is out of range");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"packets\":4,\"packet_size\":1099511627776}", NULL,
	    PINGOO_ERR_TOOBIG, "limit_exceeded", "packet_size"),
	    "a packet past tp_max_packet_size names the limit");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"packets\":4,\"packet_size\":65536,\"client\":{\"os\":\"x\"},"
	    "\"packets\":5}", NULL, PINGOO_ERR_INVAL, "invalid_json", ""),
	    "a duplicate key never reaches the validator");
	ok(run(pingoo_in_tp_create, "{\"direction\":\"both\",\"packets\":4,"
	    "\"packet_size\":65536,\"simultaneous\":true}", NULL, &in, &f) ==
	    PINGOO_OK && in.u.tp_create.simultaneous == 1,
	    "simultaneous both directions is read");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"packets\":4,\"packet_size\":65536,\"simultaneous\":true}",
	    NULL, PINGOO_ERR_RANGE, "out_of_range", "simultaneous") &&
	    refuses(pingoo_in_tp_create, "{\"direction\":\"both\","
	    "\"packets\":4,\"packet_size\":65536,\"simultaneous\":1}",
	    NULL, PINGOO_ERR_INVAL, "invalid_field", "simultaneous"),
	    "simultaneous needs direction both and a boolean");
}

static void
test_tp_timed(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_tp_create, "{\"direction\":\"download\","
	    "\"duration_ms\":10000}", NULL, &in, &f) == PINGOO_OK &&
	    in.u.tp_create.duration_ms == 10000 &&
	    in.u.tp_create.packets == 0 && in.u.tp_create.packet_size == 0,
	    "duration_ms in place of packets gives a time-bounded test with "
	    "no packet size");
	pingoo_input_clear(&in);
	ok(run(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"duration_ms\":1000,\"packet_size\":65536}", NULL, &in, &f) ==
	    PINGOO_OK && in.u.tp_create.packet_size == 65536,
	    "a time-bounded test may name a packet size");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"duration_ms\":999}", NULL, PINGOO_ERR_RANGE, "out_of_range",
	    "duration_ms") && refuses(pingoo_in_tp_create,
	    "{\"direction\":\"upload\",\"duration_ms\":60001}", NULL,
	    PINGOO_ERR_RANGE, "out_of_range", "duration_ms"),
	    "duration_ms outside 1000..60000 is refused naming it");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"duration_ms\":5000,\"packets\":4,\"packet_size\":65536}",
	    NULL, PINGOO_ERR_RANGE, "conflicting_fields", "duration_ms"),
	    "both duration_ms and packets are refused");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"packet_size\":65536}", NULL, PINGOO_ERR_RANGE, "missing_size",
	    "packets"), "neither duration_ms nor packets is refused naming "
	    "packets");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"duration_ms\":\"10000\"}", NULL, PINGOO_ERR_INVAL,
	    "invalid_field", "duration_ms"), "a duration_ms that is not an "
	    "integer is refused");
	ok(refuses(pingoo_in_tp_create, "{\"direction\":\"upload\","
	    "\"duration_ms\":5000,\"packet_size\":1099511627776}", NULL,
	    PINGOO_ERR_TOOBIG, "limit_exceeded", "packet_size"),
	    "a time-bounded test's packet size past the limit names it");
}

static void
test_tp_packet(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_tp_packet, NULL, "bytes=65536", &in, &f) ==
	    PINGOO_OK && in.u.tp_packet.bytes == 65536,
	    "a download's bytes are read");
	ok(run(pingoo_in_tp_packet, NULL, NULL, &in, &f) == PINGOO_OK &&
	    in.u.tp_packet.bytes == 0 && run(pingoo_in_tp_packet, NULL,
	    "r=0.5&x", &in, &f) == PINGOO_OK && in.u.tp_packet.bytes == 0,
	    "no bytes, or only other parameters, leave the size unset");
	ok(refuses(pingoo_in_tp_packet, NULL, "bytes=0", PINGOO_ERR_INVAL,
	    "invalid_query", "bytes") && refuses(pingoo_in_tp_packet, NULL,
	    "bytes=1e6", PINGOO_ERR_INVAL, "invalid_query", "bytes") &&
	    refuses(pingoo_in_tp_packet, NULL, "bytes=1&bytes=2",
	    PINGOO_ERR_INVAL, "invalid_query", "bytes"),
	    "zero, malformed and repeated bytes are refused");
	ok(refuses(pingoo_in_tp_packet, NULL, "bytes=1099511627776",
	    PINGOO_ERR_TOOBIG, "limit_exceeded", "bytes"),
	    "bytes past tp_max_packet_size names the limit");
}

static void
test_reports(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_reports, "{\"packets\":[{\"direction\":\"upload\","
	    "\"seq\":3,\"client_sent_at\":10,\"client_received_at\":20}]}", NULL,
	    &in, &f) == PINGOO_OK && in.u.reports.n == 1 &&
	    in.u.reports.v[0].dir == PINGOO_TP_UPLOAD &&
	    in.u.reports.v[0].seq == 3 &&
	    in.u.reports.v[0].client_received_at == 20,
	    "a report gives direction, seq and the client's stamps");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_reports, "{\"packets\":[{\"direction\":\"both\","
	    "\"seq\":3,\"client_sent_at\":10,\"client_received_at\":20}]}", NULL,
	    PINGOO_ERR_INVAL, "invalid_field", "packets[0].direction"),
	    "a report for both directions is refused");
	ok(refuses(pingoo_in_reports, "{\"packets\":[{\"direction\":\"upload\","
	    "\"seq\":3,\"client_sent_at\":30,\"client_received_at\":20}]}", NULL,
	    PINGOO_ERR_RANGE, "out_of_range", "packets[0].client_received_at"),
	    "a report received before it was sent is refused");
}

static void
test_page(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_page, NULL, "", &in, &f) == PINGOO_OK &&
	    in.u.page.limit == 20 && in.u.page.cursor == 0,
	    "no query: the first page of 20");
	ok(run(pingoo_in_page, NULL, "limit=5&cursor=42&x=y&flag", &in, &f) ==
	    PINGOO_OK && in.u.page.limit == 5 && in.u.page.cursor == 42,
	    "limit and cursor are read, other keys ignored");
	ok(refuses(pingoo_in_page, NULL, "limit=5&limit=6", PINGOO_ERR_INVAL,
	    "invalid_query", "limit"), "a repeated limit is refused");
	ok(refuses(pingoo_in_page, NULL, "cursor=5&cursor=6", PINGOO_ERR_INVAL,
	    "invalid_query", "cursor"), "a repeated cursor is refused");
	ok(refuses(pingoo_in_page, NULL, "limit=101", PINGOO_ERR_INVAL,
	    "invalid_query", "limit"), "a limit past list_max_limit is refused");
	ok(refuses(pingoo_in_page, NULL, "limit=0", PINGOO_ERR_INVAL,
	    "invalid_query", "limit") && refuses(pingoo_in_page, NULL, "limit",
	    PINGOO_ERR_INVAL, "invalid_query", "limit"),
	    "limit 0 and a limit without a value are refused");
	ok(refuses(pingoo_in_page, NULL, "cursor=0", PINGOO_ERR_INVAL,
	    "invalid_query", "cursor") && refuses(pingoo_in_page, NULL,
	    "cursor=%31", PINGOO_ERR_INVAL, "invalid_query", "cursor"),
	    "cursor 0 and an encoded cursor are refused");
}

static void
test_probe(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;

	ok(run(pingoo_in_probe, "{\"seq\":3,\"phase\":\"upload\","
	    "\"client_sent_at\":1700000000000000}", NULL, &in, &f) ==
	    PINGOO_OK && in.kind == PINGOO_IN_PROBE && in.u.probe.seq == 3 &&
	    in.u.probe.phase == PINGOO_PHASE_UPLOAD &&
	    in.u.probe.client_sent_at == 1700000000000000LL,
	    "a probe is read with its seq, phase and client stamp");
	ok(refuses(pingoo_in_probe, "{\"seq\":0,\"phase\":\"loaded\","
	    "\"client_sent_at\":1}", NULL, PINGOO_ERR_INVAL, "invalid_field",
	    "phase"), "an unknown phase is refused");
	ok(refuses(pingoo_in_probe, "{\"seq\":4096,\"phase\":\"idle\","
	    "\"client_sent_at\":1}", NULL, PINGOO_ERR_RANGE, "out_of_range",
	    "seq"), "a seq past the probes a test may carry is refused");
	ok(refuses(pingoo_in_probe, "{\"seq\":0,\"client_sent_at\":1}", NULL,
	    PINGOO_ERR_INVAL, "missing_field", "phase"),
	    "a probe without a phase is refused");
	ok(refuses(pingoo_in_probe, "{\"seq\":0,\"phase\":\"idle\","
	    "\"client_sent_at\":1,\"x\":1}", NULL, PINGOO_ERR_INVAL,
	    "unknown_field", "x"), "a probe with an unknown key is refused");
}

static void
test_probe_receipts(void)
{
	struct pingoo_sample s = { 4, 100, 200, 300, 0, 0 };
	struct pingoo_input in;
	struct pingoo_fault f;
	char sig[PINGOO_SIG_LEN + 1], body[512];

	ok(run(pingoo_in_probe_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"phase\":\"idle\",\"client_sent_at\":5,"
	    "\"client_received_at\":9},{\"seq\":2,\"phase\":\"download\","
	    "\"client_sent_at\":6,\"client_received_at\":null}]}", NULL, &in,
	    &f) == PINGOO_OK && in.u.probe_receipts.n == 2 &&
	    in.u.probe_receipts.v[0].t3 == 9 && in.u.probe_receipts.v[1].t3 == -1
	    && in.u.probe_receipts.v[1].phase == PINGOO_PHASE_DOWNLOAD,
	    "an answered and a lost probe (client_received_at null) are read");
	pingoo_input_clear(&in);
	ok(refuses(pingoo_in_probe_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"phase\":\"idle\",\"client_sent_at\":5}]}", NULL,
	    PINGOO_ERR_INVAL, "missing_field", "receipts[0].client_received_at"),
	    "a receipt must say client_received_at, if only null");
	ok(refuses(pingoo_in_probe_receipts, "{\"receipts\":[{\"seq\":1,"
	    "\"phase\":\"idle\",\"client_sent_at\":5,"
	    "\"client_received_at\":4}]}", NULL, PINGOO_ERR_RANGE,
	    "out_of_range", "receipts[0].client_received_at"),
	    "an answer before its probe left is refused");
	pingoo_probe_sign(cfg.jwt_sample_key, cfg.jwt_sample_key_len, 7, 3,
	    PINGOO_PHASE_UPLOAD, &s, sig);
	snprintf(body, sizeof(body), "{\"receipts\":[{\"seq\":4,\"phase\":"
	    "\"upload\",\"client_received_at\":400,\"client_sent_at\":100,"
	    "\"server_received_at\":200,\"server_sent_at\":300,\"sig\":\"%s\""
	    "}]}", sig);
	ok(run(pingoo_in_probe_receipts, body, NULL, &in, &f) == PINGOO_OK &&
	    in.u.probe_receipts.v[0].has_stamps &&
	    in.u.probe_receipts.v[0].t2 == 300,
	    "a probe's stamps with the server's signature come back");
	pingoo_input_clear(&in);
	snprintf(body, sizeof(body), "{\"receipts\":[{\"seq\":4,\"phase\":"
	    "\"download\",\"client_received_at\":400,\"client_sent_at\":100,"
	    "\"server_received_at\":200,\"server_sent_at\":300,\"sig\":\"%s\""
	    "}]}", sig);
	ok(refuses(pingoo_in_probe_receipts, body, NULL, PINGOO_ERR_RANGE,
	    "invalid_sig", "receipts[0].sig"),
	    "the signature of a probe does not hold for another phase");
	pingoo_sample_sign(cfg.jwt_sample_key, cfg.jwt_sample_key_len, 7, 3, &s, sig);
	snprintf(body, sizeof(body), "{\"receipts\":[{\"seq\":4,\"phase\":"
	    "\"upload\",\"client_received_at\":400,\"client_sent_at\":100,"
	    "\"server_received_at\":200,\"server_sent_at\":300,\"sig\":\"%s\""
	    "}]}", sig);
	ok(refuses(pingoo_in_probe_receipts, body, NULL, PINGOO_ERR_RANGE,
	    "invalid_sig", "receipts[0].sig"),
	    "a ping sample's signature does not hold for a probe");
	ok(refuses(pingoo_in_probe_receipts, "{\"receipts\":[{\"seq\":4,"
	    "\"phase\":\"upload\",\"client_received_at\":400,"
	    "\"client_sent_at\":100,\"server_sent_at\":300}]}", NULL,
	    PINGOO_ERR_INVAL, "missing_field", "receipts[0].sig"),
	    "server stamps without their sig are refused");
}

static void
test_export(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;
	const struct pingoo_export_query *x = &in.u.export;

	ok(run(pingoo_in_export, NULL, "", &in, &f) == PINGOO_OK &&
	    x->from == 0 && x->to == ((int64_t)1 << 53) &&
	    x->kinds == PINGOO_KIND_ALL, "no query: all time, both kinds");
	ok(run(pingoo_in_export, NULL, "from=10&to=20&kind=ping&x=1", &in, &f)
	    == PINGOO_OK && x->from == 10 && x->to == 20 &&
	    x->kinds == PINGOO_KIND_PING, "from, to and kind are read, other "
	    "keys ignored");
	ok(run(pingoo_in_export, NULL, "kind=throughput", &in, &f) == PINGOO_OK &&
	    x->kinds == PINGOO_KIND_TP, "kind=throughput");
	ok(refuses(pingoo_in_export, NULL, "from=5&to=5", PINGOO_ERR_INVAL,
	    "invalid_query", "to"), "an empty range is refused");
	ok(refuses(pingoo_in_export, NULL, "from=-1", PINGOO_ERR_INVAL,
	    "invalid_query", "from") && refuses(pingoo_in_export, NULL,
	    "to=9007199254740993", PINGOO_ERR_INVAL, "invalid_query", "to"),
	    "a negative from and a to past 2^53 are refused");
	ok(refuses(pingoo_in_export, NULL, "kind=ping&kind=ping",
	    PINGOO_ERR_INVAL, "invalid_query", "kind") && refuses(
	    pingoo_in_export, NULL, "kind=Ping", PINGOO_ERR_INVAL,
	    "invalid_query", "kind"), "a repeated or unknown kind is refused");
	ok(run(pingoo_in_export, NULL, "group=nope", &in, &f) == PINGOO_OK,
	    "the export ignores group");
	ok(run(pingoo_in_aggregates, NULL, "", &in, &f) == PINGOO_OK &&
	    x->group == PINGOO_GROUP_NETWORK_TYPE && in.kind ==
	    PINGOO_IN_AGGREGATES, "aggregates group by network_type by default");
	ok(run(pingoo_in_aggregates, NULL, "group=day&from=1", &in, &f) ==
	    PINGOO_OK && x->group == PINGOO_GROUP_DAY && x->from == 1,
	    "group=day");
	ok(refuses(pingoo_in_aggregates, NULL, "group=os", PINGOO_ERR_INVAL,
	    "invalid_query", "group") && refuses(pingoo_in_aggregates, NULL,
	    "group=day&group=day", PINGOO_ERR_INVAL, "invalid_query", "group"),
	    "an unknown or repeated group is refused");
}

static void
test_token(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;
	char body[1200];

	ok(run(pingoo_in_token, "{\"username\":\"demo\",\"password\":"
	    "\"secret pass\"}", NULL, &in, &f) == PINGOO_OK &&
	    in.kind == PINGOO_IN_TOKEN &&
	    strcmp(in.u.token.username, "demo") == 0 &&
	    strcmp(in.u.token.password, "secret pass") == 0,
	    "a token body gives the username and the password");
	pingoo_input_clear(&in);
	ok(in.kind == PINGOO_IN_NONE && in.u.token.username == NULL &&
	    in.u.token.password == NULL, "a cleared token input owns nothing");
	ok(refuses(pingoo_in_token, "{\"password\":\"something\"}", NULL,
	    PINGOO_ERR_INVAL, "missing_field", "username") &&
	    refuses(pingoo_in_token, "{\"username\":\"demo\"}", NULL,
	    PINGOO_ERR_INVAL, "missing_field", "password") &&
	    refuses(pingoo_in_token, "{}", NULL, PINGOO_ERR_INVAL,
	    "missing_field", "username"),
	    "a missing username or password is missing_field, naming it");
	ok(refuses(pingoo_in_token, "{\"username\":1,\"password\":\"x\"}",
	    NULL, PINGOO_ERR_INVAL, "invalid_field", "username") &&
	    refuses(pingoo_in_token, "{\"username\":\"a\",\"password\":"
	    "null}", NULL, PINGOO_ERR_INVAL, "missing_field", "password") &&
	    refuses(pingoo_in_token, "{\"username\":\"a\",\"password\":"
	    "[\"x\"]}", NULL, PINGOO_ERR_INVAL, "invalid_field", "password"),
	    "a username or password that is not a string is refused");
	ok(refuses(pingoo_in_token, "{\"username\":\"a\",\"password\":\"b\","
	    "\"remember\":true}", NULL, PINGOO_ERR_INVAL, "unknown_field",
	    "remember"), "another key is refused");
	snprintf(body, sizeof(body), "{\"username\":\"%065d\",\"password\":"
	    "\"x\"}", 0);
	ok(refuses(pingoo_in_token, body, NULL, PINGOO_ERR_TOOBIG,
	    "limit_exceeded", "username"), "a 65-byte username is refused");
	snprintf(body, sizeof(body), "{\"username\":\"%064d\",\"password\":"
	    "\"%01024d\"}", 0, 0);
	ok(run(pingoo_in_token, body, NULL, &in, &f) == PINGOO_OK &&
	    strlen(in.u.token.username) == 64 &&
	    strlen(in.u.token.password) == 1024,
	    "a 64-byte username and a 1024-byte password are read");
	pingoo_input_clear(&in);
	snprintf(body, sizeof(body), "{\"username\":\"a\",\"password\":"
	    "\"%01025d\"}", 0);
	ok(refuses(pingoo_in_token, body, NULL, PINGOO_ERR_TOOBIG,
	    "limit_exceeded", "password"), "a 1025-byte password is refused");
	ok(run(pingoo_in_token, "{\"username\":\"Not A Name\",\"password\":"
	    "\"\"}", NULL, &in, &f) == PINGOO_OK &&
	    strcmp(in.u.token.username, "Not A Name") == 0 &&
	    in.u.token.password[0] == '\0',
	    "a name or password no account can have is the handler's to refuse "
	    "(401), not a malformed body");
	pingoo_input_clear(&in);
}

/* A body or query each kind's validator takes, to check each validator is
 * in its kind's slot: what it reads says which kind it is. */
static const struct { const char *json, *query; } good[] = {
	[PINGOO_IN_PING_CREATE] = { "{\"count\":1}", NULL },
	[PINGOO_IN_ECHO] = { "{\"seq\":0,\"client_sent_at\":1}", NULL },
	[PINGOO_IN_RECEIPTS] = { "{\"receipts\":[{\"seq\":0,"
	    "\"client_received_at\":5}]}", NULL },
	[PINGOO_IN_TP_CREATE] = { "{\"direction\":\"upload\",\"packets\":1,"
	    "\"packet_size\":65536}", NULL },
	[PINGOO_IN_REPORTS] = { "{\"packets\":[{\"direction\":\"upload\","
	    "\"seq\":1,\"client_sent_at\":1,\"client_received_at\":2}]}",
	    NULL },
	[PINGOO_IN_PAGE] = { NULL, "limit=5" },
	[PINGOO_IN_PROBE] = { "{\"seq\":0,\"phase\":\"idle\","
	    "\"client_sent_at\":1}", NULL },
	[PINGOO_IN_PROBE_RECEIPTS] = { "{\"receipts\":[{\"seq\":1,"
	    "\"phase\":\"idle\",\"client_sent_at\":1,"
	    "\"client_received_at\":5}]}", NULL },
	[PINGOO_IN_EXPORT] = { NULL, "kind=ping" },
	[PINGOO_IN_AGGREGATES] = { NULL, "group=day" },
	[PINGOO_IN_TP_PACKET] = { NULL, "bytes=65536" },
	[PINGOO_IN_TOKEN] = { "{\"username\":\"a\",\"password\":\"b\"}",
	    NULL },
};

/* Every kind but none has a validator, the one that makes that kind. */
static void
test_kinds(void)
{
	struct pingoo_input in;
	struct pingoo_fault f;
	pingoo_validator v;
	int k, good_slots = 1;

	for (k = 0; k < PINGOO_IN__MAX; k++) {
		v = pingoo_input_validator((enum pingoo_input_kind)k);
		if ((v == NULL) != (k == PINGOO_IN_NONE)) {
			diag("kind %d: %s validator", k, v ? "a" : "no");
			good_slots = 0;
		}
		if (v == NULL || k == PINGOO_IN_NONE)
			continue;
		if ((size_t)k >= sizeof(good) / sizeof(good[0]) ||
		    (good[k].json == NULL && good[k].query == NULL)) {
			diag("kind %d: no sample input in this test", k);
			good_slots = 0;
			continue;
		}
		if (run(v, good[k].json, good[k].query != NULL ? good[k].query :
		    "", &in, &f) != PINGOO_OK || in.kind != (enum
		    pingoo_input_kind)k) {
			diag("kind %d: its validator gives kind %d (%s)", k,
			    in.kind, f.message);
			good_slots = 0;
		}
		pingoo_input_clear(&in);
	}
	ok(good_slots && pingoo_input_validator(PINGOO_IN__MAX) == NULL,
	    "every kind but none has a validator, the one that reads that "
	    "kind");
}

int
main(void)
{

	pingoo_config_defaults(&cfg);
	memcpy(cfg.jwt_key, "a test key of thirty-two bytes!!", 32);
	cfg.jwt_key_len = 32;
	(void)pingoo_keys_derive(&cfg);
	/* Small array limits keep the bodies past them short. */
	cfg.ping_max_receipts = 3;
	cfg.tp_max_reports = 3;
	test_ping_create();
	test_echo();
	test_receipts();
	test_arrays(pingoo_in_receipts, "receipts", cfg.ping_max_receipts,
	    "{\"seq\":1,\"client_received_at\":5}");
	test_tp_create();
	test_tp_timed();
	test_tp_packet();
	test_reports();
	test_arrays(pingoo_in_reports, "packets", cfg.tp_max_reports,
	    "{\"direction\":\"upload\",\"seq\":1,\"client_sent_at\":1,"
	    "\"client_received_at\":2}");
	test_page();
	test_probe();
	test_probe_receipts();
	test_arrays(pingoo_in_probe_receipts, "receipts", cfg.ping_max_receipts,
	    "{\"seq\":1,\"phase\":\"idle\",\"client_sent_at\":1,"
	    "\"client_received_at\":5}");
	test_export();
	test_token();
	test_kinds();
	return tap_done();
}
