/*
 * export.c - one export record as a CSV row or an NDJSON line.  Every
 * record of a CSV export has the same columns (those a type does not have
 * are empty), so one file holds tests and their items: the first column
 * says which a row is.  NDJSON lines carry only their type's fields.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "export/export.h"
#include "measure/measure.h"

static const char *const type_names[] = {
	[PINGOO_EXPORT_PING_TEST] =	"ping_test",
	[PINGOO_EXPORT_PING_SAMPLE] =	"ping_sample",
	[PINGOO_EXPORT_TP_TEST] =	"throughput_test",
	[PINGOO_EXPORT_TRANSFER] =	"transfer",
	[PINGOO_EXPORT_PROBE] =		"probe",
	[PINGOO_EXPORT_END] =		"end",
};
PINGOO_TABLE_CHECK(type_names, PINGOO_EXPORT__TYPES);

static const char *const group_names[] = {
	[PINGOO_GROUP_NETWORK_TYPE] =	"network_type",
	[PINGOO_GROUP_PLATFORM] =	"platform",
	[PINGOO_GROUP_CARRIER] =	"carrier",
	[PINGOO_GROUP_DAY] =		"day",
};
PINGOO_TABLE_CHECK(group_names, PINGOO_GROUP__MAX);

/* The columns, in order; docs/api.md lists them with their meaning. */
enum col {
	C_RECORD, C_TEST_ID, C_STATE, C_CREATED_AT, C_FINISHED_AT, C_COUNT,
	C_INTERVAL_MS, C_TEST_DIRECTION, C_PACKETS, C_PACKET_SIZE, C_CLIENT,
	C_DIRECTION, C_SEQ, C_STATUS, C_BYTES, C_CLIENT_SENT_AT,
	C_SERVER_RECEIVED_AT, C_SERVER_SENT_AT, C_CLIENT_RECEIVED_AT, C_RTT_US,
	C_SERVER_US, C_NETWORK_RTT_US, C_OFFSET_US, C_SERVER_STARTED_AT,
	C_SERVER_FINISHED_AT, C_CLIENT_FIRST_BYTE_AT, C_DURATION_US,
	C_BITS_PER_SECOND, C_SENDER_DURATION_US, C_SENDER_BITS_PER_SECOND,
	C_PHASE, C_TESTS, C_RECORDS,
	C__MAX
};

static const char *const col_names[] = {
	[C_RECORD] = "record",
	[C_TEST_ID] = "test_id",
	[C_STATE] = "state",
	[C_CREATED_AT] = "created_at",
	[C_FINISHED_AT] = "finished_at",
	[C_COUNT] = "count",
	[C_INTERVAL_MS] = "interval_ms",
	[C_TEST_DIRECTION] = "test_direction",
	[C_PACKETS] = "packets",
	[C_PACKET_SIZE] = "packet_size",
	[C_CLIENT] = "client",
	[C_DIRECTION] = "direction",
	[C_SEQ] = "seq",
	[C_STATUS] = "status",
	[C_BYTES] = "bytes",
	[C_CLIENT_SENT_AT] = "client_sent_at",
	[C_SERVER_RECEIVED_AT] = "server_received_at",
	[C_SERVER_SENT_AT] = "server_sent_at",
	[C_CLIENT_RECEIVED_AT] = "client_received_at",
	[C_RTT_US] = "rtt_us",
	[C_SERVER_US] = "server_us",
	[C_NETWORK_RTT_US] = "network_rtt_us",
	[C_OFFSET_US] = "offset_us",
	[C_SERVER_STARTED_AT] = "server_started_at",
	[C_SERVER_FINISHED_AT] = "server_finished_at",
	[C_CLIENT_FIRST_BYTE_AT] = "client_first_byte_at",
	[C_DURATION_US] = "duration_us",
	[C_BITS_PER_SECOND] = "bits_per_second",
	[C_SENDER_DURATION_US] = "sender_duration_us",
	[C_SENDER_BITS_PER_SECOND] = "sender_bits_per_second",
	[C_PHASE] = "phase",
	[C_TESTS] = "tests",
	[C_RECORDS] = "records",
};
PINGOO_TABLE_CHECK(col_names, C__MAX);

/* One record's cells: a number, a string, or nothing (empty / null). */
struct cell {
	enum { CELL_NONE, CELL_NUM, CELL_STR } kind;
	int64_t		 num;
	const char	*str;
};

const char *
pingoo_export_type_name(enum pingoo_export_type t)
{
	return pingoo_name_of(type_names, PINGOO_EXPORT__TYPES, (int)t);
}

const char *
pingoo_group_name(enum pingoo_group g)
{
	return pingoo_name_of(group_names, PINGOO_GROUP__MAX, (int)g);
}

int
pingoo_group_parse(const char *s, size_t len)
{
	return pingoo_name_find(group_names, PINGOO_GROUP__MAX, s, len);
}

const char *
pingoo_export_csv_header(void)
{
	static char line[1024];
	size_t n = 0;
	int i;

	if (line[0] != '\0')
		return line;
	for (i = 0; i < C__MAX; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
		    i > 0 ? "," : "", col_names[i]);
	snprintf(line + n, sizeof(line) - n, "\r\n");
	return line;
}

static void
num(struct cell *c, int64_t v)
{
	c->kind = CELL_NUM;
	c->num = v;
}

/* A number that is absent when negative (the store's -1). */
static void
opt(struct cell *c, int64_t v)
{
	if (v >= 0)
		num(c, v);
}

static void
str(struct cell *c, const char *s)
{
	if (s != NULL) {
		c->kind = CELL_STR;
		c->str = s;
	}
}

static void
test_cells(const struct pingoo_export_rec *r, struct cell *c)
{
	const struct pingoo_export_test *t = &r->test;

	str(&c[C_STATE], t->state);
	num(&c[C_CREATED_AT], t->created_at);
	opt(&c[C_FINISHED_AT], t->finished_at);
	if (r->type == PINGOO_EXPORT_PING_TEST) {
		num(&c[C_COUNT], t->count);
		opt(&c[C_INTERVAL_MS], t->interval_ms);
	} else {
		str(&c[C_TEST_DIRECTION], t->direction);
		num(&c[C_PACKETS], t->packets);
		num(&c[C_PACKET_SIZE], t->packet_size);
	}
	str(&c[C_CLIENT], t->client);
}

static void
sample_cells(const struct pingoo_sample *s, struct cell *c)
{
	num(&c[C_SEQ], s->seq);
	num(&c[C_CLIENT_SENT_AT], s->t0);
	num(&c[C_SERVER_RECEIVED_AT], s->t1);
	num(&c[C_SERVER_SENT_AT], s->t2);
	num(&c[C_SERVER_US], pingoo_sample_server(s));
	if (!s->has_t3)
		return;
	num(&c[C_CLIENT_RECEIVED_AT], s->t3);
	num(&c[C_RTT_US], pingoo_sample_rtt(s));
	num(&c[C_NETWORK_RTT_US], pingoo_sample_network_rtt(s));
	num(&c[C_OFFSET_US], pingoo_sample_offset(s));
}

/* As a read shows a transfer: the receiver's figures first. */
static void
xfer_cells(const struct pingoo_tp_xfer *x, struct cell *c)
{
	int64_t d;

	str(&c[C_DIRECTION], pingoo_tp_dir_name(x->dir));
	num(&c[C_SEQ], x->seq);
	str(&c[C_STATUS], pingoo_tp_status_name(x->status));
	num(&c[C_BYTES], (int64_t)x->bytes);
	num(&c[C_SERVER_STARTED_AT], x->server_started_at);
	opt(&c[C_SERVER_FINISHED_AT], x->server_finished_at);
	opt(&c[C_CLIENT_SENT_AT], x->client_sent_at);
	opt(&c[C_CLIENT_FIRST_BYTE_AT], x->client_first_byte_at);
	opt(&c[C_CLIENT_RECEIVED_AT], x->client_received_at);
	d = pingoo_tp_duration_us(x, PINGOO_TP_RECEIVER);
	opt(&c[C_DURATION_US], d);
	opt(&c[C_BITS_PER_SECOND], pingoo_tp_bps(x->bytes, d));
	d = pingoo_tp_duration_us(x, PINGOO_TP_SENDER);
	opt(&c[C_SENDER_DURATION_US], d);
	opt(&c[C_SENDER_BITS_PER_SECOND], pingoo_tp_bps(x->bytes, d));
}

/* As a read shows a probe: rtt_us with an answer, server_us with the
 * server's stamps. */
static void
probe_cells(const struct pingoo_tp_probe *p, struct cell *c)
{
	str(&c[C_PHASE], pingoo_phase_name(p->phase));
	num(&c[C_SEQ], p->seq);
	num(&c[C_CLIENT_SENT_AT], p->t0);
	opt(&c[C_SERVER_RECEIVED_AT], p->t1);
	opt(&c[C_SERVER_SENT_AT], p->t2);
	opt(&c[C_CLIENT_RECEIVED_AT], p->t3);
	if (p->t3 >= 0)
		num(&c[C_RTT_US], p->t3 - p->t0);
	if (p->t1 >= 0 && p->t2 >= 0)
		num(&c[C_SERVER_US], p->t2 - p->t1);
}

static void
cells_of(const struct pingoo_export_rec *r, struct cell *c)
{
	memset(c, 0, C__MAX * sizeof(*c));
	str(&c[C_RECORD], pingoo_export_type_name(r->type));
	if (r->type != PINGOO_EXPORT_END)
		num(&c[C_TEST_ID], (int64_t)r->test_id);
	switch (r->type) {
	case PINGOO_EXPORT_PING_TEST:
	case PINGOO_EXPORT_TP_TEST:
		test_cells(r, c);
		break;
	case PINGOO_EXPORT_PING_SAMPLE:
		sample_cells(&r->sample, c);
		break;
	case PINGOO_EXPORT_TRANSFER:
		xfer_cells(&r->xfer, c);
		break;
	case PINGOO_EXPORT_PROBE:
		probe_cells(&r->probe, c);
		break;
	case PINGOO_EXPORT_END:
		num(&c[C_TESTS], (int64_t)r->tests);
		num(&c[C_RECORDS], (int64_t)r->records);
		break;
	default:
		break;
	}
}

/* Appends to buf[cap] at *n; 0, or -1 once it no longer fits. */
__attribute__((format(printf, 4, 5)))
static int
put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= cap)
		return -1;
	va_start(ap, fmt);
	k = vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= cap - *n)
		return -1;
	*n += (size_t)k;
	return 0;
}

/* RFC 4180: a field with a comma, a quote or a line break is quoted, its
 * quotes doubled. */
static int
put_csv_str(char *buf, size_t cap, size_t *n, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
		return put(buf, cap, n, "%s", s);
	if (put(buf, cap, n, "\"") < 0)
		return -1;
	for (; *s != '\0'; s++)
		if (put(buf, cap, n, *s == '"' ? "\"\"" : "%c", *s) < 0)
			return -1;
	return put(buf, cap, n, "\"");
}

static int
format_csv(const struct cell *c, char *buf, size_t cap)
{
	size_t n = 0;
	int i;

	for (i = 0; i < C__MAX; i++) {
		if (i > 0 && put(buf, cap, &n, ",") < 0)
			return -1;
		if (c[i].kind == CELL_NUM &&
		    put(buf, cap, &n, "%" PRId64, c[i].num) < 0)
			return -1;
		if (c[i].kind == CELL_STR && put_csv_str(buf, cap, &n,
		    c[i].str) < 0)
			return -1;
	}
	return put(buf, cap, &n, "\r\n") < 0 ? -1 : (int)n;
}

/* Which columns a type's NDJSON line has (present even when null). */
static int
has_col(enum pingoo_export_type t, enum col i)
{
	switch (t) {
	case PINGOO_EXPORT_PING_TEST:
		return i <= C_INTERVAL_MS || i == C_CLIENT;
	case PINGOO_EXPORT_TP_TEST:
		return i <= C_FINISHED_AT || (i >= C_TEST_DIRECTION &&
		    i <= C_CLIENT);
	case PINGOO_EXPORT_PING_SAMPLE:
		return i <= C_TEST_ID || i == C_SEQ || (i >= C_CLIENT_SENT_AT &&
		    i <= C_OFFSET_US);
	case PINGOO_EXPORT_TRANSFER:
		return i <= C_TEST_ID || (i >= C_DIRECTION &&
		    i <= C_CLIENT_SENT_AT) || i == C_CLIENT_RECEIVED_AT ||
		    (i >= C_SERVER_STARTED_AT && i <= C_SENDER_BITS_PER_SECOND);
	case PINGOO_EXPORT_PROBE:
		return i <= C_TEST_ID || i == C_SEQ || i == C_PHASE ||
		    (i >= C_CLIENT_SENT_AT && i <= C_SERVER_US);
	case PINGOO_EXPORT_END:
		return i == C_RECORD || i >= C_TESTS;
	default:
		return 0;
	}
}

static int
format_ndjson(const struct pingoo_export_rec *r, const struct cell *c,
    char *buf, size_t cap)
{
	struct json_object *o = json_object_new_object(), *v;
	const char *s;
	size_t len;
	int i, rc = -1;

	if (o == NULL)
		return -1;
	for (i = 0; i < C__MAX; i++) {
		if (!has_col(r->type, (enum col)i))
			continue;
		v = NULL;
		if (c[i].kind == CELL_NUM)
			v = json_object_new_int64(c[i].num);
		else if (c[i].kind == CELL_STR && i == C_CLIENT)
			v = json_tokener_parse(c[i].str);	/* canonical JSON */
		else if (c[i].kind == CELL_STR)
			v = json_object_new_string(c[i].str);
		json_object_object_add(o, i == C_RECORD ? "type" : col_names[i], v);
	}
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s != NULL && len + 2 <= cap) {
		memcpy(buf, s, len);
		buf[len] = '\n';
		buf[len + 1] = '\0';
		rc = (int)len + 1;
	}
	json_object_put(o);
	return rc;
}

int
pingoo_export_format(enum pingoo_export_format fmt,
    const struct pingoo_export_rec *r, char *buf, size_t cap)
{
	struct cell c[C__MAX];

	cells_of(r, c);
	if (fmt == PINGOO_EXPORT_CSV)
		return format_csv(c, buf, cap);
	return format_ndjson(r, c, buf, cap);
}
