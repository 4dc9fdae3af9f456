/*
 * input.c - the validators of every request body and query string: parsed
 * JSON or the raw query in, a typed struct or a fault out.  Limits come
 * from the configuration the source carries; nothing else is read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "input/input.h"
#include "auth/auth.h"
#include "core/core.h"
#include "export/export.h"
#include "measure/measure.h"

/* Timestamps must be plausible microseconds since the epoch: below 2^53,
 * so a JavaScript number holds them exactly. */
#define STAMP_MAX	((int64_t)1 << 53)
/* The page a list route gives when no limit is asked for. */
#define PAGE_DEFAULT	20
/* A time-bounded throughput test's duration_ms. */
#define TP_DURATION_MIN	1000
#define TP_DURATION_MAX	60000

/* ---- arrays of objects -------------------------------------------------- */

/* How a body made of one array of objects is read. */
struct item_list {
	const char	*key;		/* the body's only key */
	const char	*limit;		/* the configuration key of max */
	int		 max;
	size_t		 size;		/* of one parsed item */
	enum pingoo_err	(*item)(const struct pingoo_input_src *,
			    struct json_object *, void *,
			    struct pingoo_fault *);
};

/* Prefixes a fault's field with the item's path, "key[i].".  A field name
 * too long to fit (an unknown key) is cut; the item is still named. */
static enum pingoo_err
item_fault(struct pingoo_fault *f, const char *key, size_t i)
{
	char field[sizeof(f->field) + 64];

	snprintf(field, sizeof(field), "%s[%zu]%s%s", key, i,
	    f->field[0] != '\0' ? "." : "", f->field);
	memcpy(f->field, field, sizeof(f->field) - 1);
	f->field[sizeof(f->field) - 1] = '\0';
	return f->err;
}

/*
 * Reads {"<key>": [ {...}, ... ]} into a new array *out[0..*n) (caller
 * frees).  Refuses another key, a missing key, a value that is not an
 * array, an empty array, more than l->max items, and an item that is not
 * an object; an item's own refusal names "key[i].field".
 */
static enum pingoo_err
item_list(const struct pingoo_input_src *src, const struct item_list *l,
    void **out, size_t *n, struct pingoo_fault *f)
{
	const char *const keys[] = { l->key, NULL };
	struct json_object *a, *o;
	unsigned char *v;
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (pingoo_json_only(src->body, keys, f) != PINGOO_OK)
		return f->err;
	if (!json_object_object_get_ex(src->body, l->key, &a) || a == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "missing_field",
		    l->key, "%s is required", l->key);
	if (!json_object_is_type(a, json_type_array))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    l->key, "%s must be an array", l->key);
	if ((len = json_object_array_length(a)) == 0)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    l->key, "%s must not be empty", l->key);
	if (len > (size_t)l->max)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    l->key, "%s has more than %s (%d) items", l->key, l->limit,
		    l->max);
	if ((v = calloc(len, l->size)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
		    "out of memory");
	for (i = 0; i < len; i++) {
		o = json_object_array_get_idx(a, i);
		if (!json_object_is_type(o, json_type_object))
			pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
			    NULL, "each item of %s must be an object", l->key);
		else if (l->item(src, o, v + i * l->size, f) == PINGOO_OK)
			continue;
		free(v);
		return item_fault(f, l->key, i);
	}
	*out = v;
	*n = len;
	return PINGOO_OK;
}

/* ---- ping tests --------------------------------------------------------- */

enum pingoo_err
pingoo_in_ping_create(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	static const char *const keys[] = { "count", "interval_ms", "client",
	    NULL };
	const struct pingoo_config *c = src->cfg;
	int64_t count, interval = -1;
	char *client = NULL;

	memset(in, 0, sizeof(*in));
	if (pingoo_json_only(src->body, keys, f) != PINGOO_OK ||
	    pingoo_json_int(src->body, "count", 1, 1, INT32_MAX, &count, f) !=
	    PINGOO_OK ||
	    pingoo_json_int(src->body, "interval_ms", 0, 0,
	    c->ping_max_interval_ms, &interval, f) != PINGOO_OK ||
	    pingoo_valid_client(src->body, c->max_client_bytes, &client, f) !=
	    PINGOO_OK)
		return f->err;
	if (count > c->ping_max_count) {
		free(client);
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "count", "count exceeds the limit ping_max_count (%d)",
		    c->ping_max_count);
	}
	in->kind = PINGOO_IN_PING_CREATE;
	in->u.ping_create.count = (uint32_t)count;
	in->u.ping_create.interval_ms = (int32_t)interval;
	in->u.ping_create.client = client;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_echo(const struct pingoo_input_src *src, struct pingoo_input *in,
    struct pingoo_fault *f)
{
	static const char *const keys[] = { "seq", "client_sent_at", NULL };
	int64_t seq, t0;

	memset(in, 0, sizeof(*in));
	if (pingoo_json_only(src->body, keys, f) != PINGOO_OK ||
	    pingoo_json_int(src->body, "seq", 1, 0, INT32_MAX, &seq, f) !=
	    PINGOO_OK ||
	    pingoo_json_int(src->body, "client_sent_at", 1, 1, STAMP_MAX, &t0,
	    f) != PINGOO_OK)
		return f->err;
	in->kind = PINGOO_IN_ECHO;
	in->u.echo.seq = (uint32_t)seq;
	in->u.echo.client_sent_at = t0;
	return PINGOO_OK;
}

/*
 * Whether sig is the server's over stamps x: a sample's (phase < 0) or a
 * probe's of that phase, with the samples' key or, during an upgrade
 * (jwt_key_legacy), with the other one.
 */
static int
stamps_signed(const struct pingoo_input_src *src, int phase,
    const struct pingoo_sample *x, const char *sig)
{
	const unsigned char *key[2];
	size_t keylen[2], n, i;

	n = pingoo_sample_keys(src->cfg, key, keylen);
	for (i = 0; i < n; i++)
		if ((phase < 0 ? pingoo_sample_verify(key[i], keylen[i],
		    src->test_id, src->user_id, x, sig) :
		    pingoo_probe_verify(key[i], keylen[i], src->test_id,
		    src->user_id, phase, x, sig)) == PINGOO_OK)
			return 1;
	return 0;
}
/* Reads receipts[i]; stamps brought back must carry the server's sig. */
static enum pingoo_err
receipt_item(const struct pingoo_input_src *src, struct json_object *o,
    void *dst, struct pingoo_fault *f)
{
	static const char *const keys[] = { "seq", "client_received_at",
	    "client_sent_at", "server_received_at", "server_sent_at", "sig",
	    NULL };
	struct pingoo_receipt *out = dst;
	struct pingoo_sample x;
	const char *sig = NULL;
	int64_t seq, t3, t0 = -1, t1 = -1, t2 = -1;

	if (pingoo_json_only(o, keys, f) != PINGOO_OK ||
	    pingoo_json_int(o, "seq", 1, 0, INT32_MAX, &seq, f) != PINGOO_OK ||
	    pingoo_json_int(o, "client_received_at", 1, 1, STAMP_MAX, &t3, f) !=
	    PINGOO_OK ||
	    pingoo_json_int(o, "client_sent_at", 0, 1, STAMP_MAX, &t0, f) !=
	    PINGOO_OK ||
	    pingoo_json_int(o, "server_received_at", 0, 1, STAMP_MAX, &t1, f) !=
	    PINGOO_OK ||
	    pingoo_json_int(o, "server_sent_at", 0, 1, STAMP_MAX, &t2, f) !=
	    PINGOO_OK ||
	    pingoo_json_str(o, "sig", 0, 64, &sig, f) != PINGOO_OK)
		return f->err;
	memset(out, 0, sizeof(*out));
	out->seq = (uint32_t)seq;
	out->t3 = t3;
	if (sig == NULL)
		return PINGOO_OK;
	if (t0 < 0 || t1 < 0 || t2 < 0)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "missing_field",
		    "sig", "sig needs client_sent_at, server_received_at and "
		    "server_sent_at");
	memset(&x, 0, sizeof(x));
	x.seq = out->seq;
	x.t0 = t0;
	x.t1 = t1;
	x.t2 = t2;
	if (!stamps_signed(src, -1, &x, sig))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "invalid_sig",
		    "sig", "the stamps do not match the server's signature");
	out->has_stamps = 1;
	out->t0 = t0;
	out->t1 = t1;
	out->t2 = t2;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_receipts(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	const struct item_list l = { "receipts", "ping_max_receipts",
	    src->cfg->ping_max_receipts, sizeof(struct pingoo_receipt),
	    receipt_item };
	void *v;
	size_t n;

	memset(in, 0, sizeof(*in));
	if (item_list(src, &l, &v, &n, f) != PINGOO_OK)
		return f->err;
	in->kind = PINGOO_IN_RECEIPTS;
	in->u.receipts.v = v;
	in->u.receipts.n = n;
	return PINGOO_OK;
}

/* ---- throughput tests --------------------------------------------------- */

/* Reads an integer field in full range so limits can be named apart from
 * nonsense (< 1). */
static enum pingoo_err
count_field(struct json_object *body, const char *key, int64_t *v,
    struct pingoo_fault *f)
{
	enum pingoo_err e;

	if ((e = pingoo_json_int(body, key, 1, INT64_MIN, INT64_MAX, v, f)) !=
	    PINGOO_OK)
		return e;
	if (*v < 1)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range", key,
		    "%s must be at least 1", key);
	return PINGOO_OK;
}

/* The configured limits; each refusal names its limit and value. */
static enum pingoo_err
create_limits(const struct pingoo_config *c, int64_t packets, int64_t size,
    struct pingoo_fault *f)
{
	if (packets > c->tp_max_packets)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "packets", "packets exceeds tp_max_packets (%d)",
		    c->tp_max_packets);
	if ((uint64_t)size < c->tp_min_packet_size)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "packet_size", "packet_size is below tp_min_packet_size "
		    "(%zu)", c->tp_min_packet_size);
	if ((uint64_t)size > c->tp_max_packet_size)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "packet_size", "packet_size exceeds tp_max_packet_size "
		    "(%zu)", c->tp_max_packet_size);
	/* Both are bounded by now, so the product fits in 64 bits. */
	if ((uint64_t)packets * (uint64_t)size > c->tp_max_total_bytes)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    NULL, "packets * packet_size exceeds tp_max_total_bytes "
		    "(%" PRIu64 ") per direction", c->tp_max_total_bytes);
	return PINGOO_OK;
}

/* The limits of a packet size the client gave. */
static enum pingoo_err
size_limits(const struct pingoo_config *c, const char *key, int64_t size,
    struct pingoo_fault *f)
{
	if ((uint64_t)size < c->tp_min_packet_size)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    key, "%s is below tp_min_packet_size (%zu)", key,
		    c->tp_min_packet_size);
	if ((uint64_t)size > c->tp_max_packet_size)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    key, "%s exceeds tp_max_packet_size (%zu)", key,
		    c->tp_max_packet_size);
	return PINGOO_OK;
}

/*
 * The size of a time-bounded test: duration_ms in place of packets, and
 * packet_size optional (the size of a download that names none).  Exactly
 * one of packets and duration_ms: REST clients get no default.
 */
static enum pingoo_err
timed_fields(const struct pingoo_input_src *src, struct pingoo_in_tp_create *t,
    struct pingoo_fault *f)
{
	struct json_object *v;
	int64_t ms, size = 0;
	enum pingoo_err e;

	if (json_object_object_get_ex(src->body, "packets", &v))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "conflicting_fields",
		    "duration_ms", "give packets or duration_ms, not both");
	if ((e = pingoo_json_int(src->body, "duration_ms", 1, INT64_MIN,
	    INT64_MAX, &ms, f)) != PINGOO_OK)
		return e;
	if (ms < TP_DURATION_MIN || ms > TP_DURATION_MAX)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "duration_ms", "duration_ms must be %d..%d", TP_DURATION_MIN,
		    TP_DURATION_MAX);
	if (json_object_object_get_ex(src->body, "packet_size", &v) &&
	    ((e = count_field(src->body, "packet_size", &size, f)) !=
	    PINGOO_OK || (e = size_limits(src->cfg, "packet_size", size, f)) !=
	    PINGOO_OK))
		return e;
	t->duration_ms = (uint32_t)ms;
	t->packet_size = (uint64_t)size;
	return PINGOO_OK;
}

/* The size of an N x S test: packets of packet_size bytes. */
static enum pingoo_err
count_fields(const struct pingoo_input_src *src, struct pingoo_in_tp_create *t,
    struct pingoo_fault *f)
{
	int64_t packets, size;
	enum pingoo_err e;

	if ((e = count_field(src->body, "packets", &packets, f)) != PINGOO_OK ||
	    (e = count_field(src->body, "packet_size", &size, f)) != PINGOO_OK ||
	    (e = create_limits(src->cfg, packets, size, f)) != PINGOO_OK)
		return e;
	t->packets = (uint32_t)packets;
	t->packet_size = (uint64_t)size;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_tp_create(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	static const char *const keys[] = { "direction", "packets",
	    "packet_size", "duration_ms", "client", "simultaneous", NULL };
	struct pingoo_in_tp_create *t = &in->u.tp_create;
	const char *dir = NULL;
	enum pingoo_err e;

	memset(in, 0, sizeof(*in));
	if ((e = pingoo_json_only(src->body, keys, f)) != PINGOO_OK ||
	    (e = pingoo_json_str(src->body, "direction", 1, 16, &dir, f)) !=
	    PINGOO_OK)
		return e;
	if ((t->dirs = pingoo_tp_dirs_parse(dir)) == 0)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "direction", "direction must be download, upload or both");
	if ((e = pingoo_json_bool(src->body, "simultaneous", 0,
	    &t->simultaneous, f)) != PINGOO_OK)
		return e;
	if (t->simultaneous && t->dirs != PINGOO_TP_BOTH)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "simultaneous", "simultaneous needs direction both");
	/* REST has no default size: neither is as wrong as both. */
	if (!json_object_object_get_ex(src->body, "duration_ms", NULL) &&
	    !json_object_object_get_ex(src->body, "packets", NULL))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "missing_size",
		    "packets", "give packets and packet_size (an N x S test) or "
		    "duration_ms (a time-bounded test)");
	if (json_object_object_get_ex(src->body, "duration_ms", NULL))
		e = timed_fields(src, t, f);
	else
		e = count_fields(src, t, f);
	if (e != PINGOO_OK || (e = pingoo_valid_client(src->body,
	    src->cfg->max_client_bytes, &t->client, f)) != PINGOO_OK)
		return e;
	in->kind = PINGOO_IN_TP_CREATE;
	return PINGOO_OK;
}


/*
 * Validates packets[i] into *dst.  A download's receiver is the client:
 * the first byte it saw starts the interval its rate is measured over, so
 * its report must carry it; an upload has none.
 */
static enum pingoo_err
report_item(const struct pingoo_input_src *src, struct json_object *o,
    void *dst, struct pingoo_fault *f)
{
	static const char *const keys[] = { "direction", "seq",
	    "client_sent_at", "client_first_byte_at", "client_received_at",
	    NULL };
	struct pingoo_tp_report *rp = dst;
	struct json_object *v;
	const char *dir;
	int64_t seq;
	int download;

	(void)src;
	if (pingoo_json_only(o, keys, f) != PINGOO_OK ||
	    pingoo_json_str(o, "direction", 1, 16, &dir, f) != PINGOO_OK)
		return f->err;
	if (pingoo_tp_dir_parse(dir, &rp->dir) != PINGOO_OK)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "direction", "direction must be download or upload");
	download = rp->dir == PINGOO_TP_DOWNLOAD;
	rp->client_first_byte_at = -1;
	if (pingoo_json_int(o, "seq", 1, 0, INT32_MAX, &seq, f) != PINGOO_OK ||
	    pingoo_json_int(o, "client_sent_at", 1, 0, INT64_MAX - 1,
	    &rp->client_sent_at, f) != PINGOO_OK ||
	    (download && pingoo_json_int(o, "client_first_byte_at", 1, 0,
	    INT64_MAX - 1, &rp->client_first_byte_at, f) != PINGOO_OK) ||
	    pingoo_json_int(o, "client_received_at", 1, 0, INT64_MAX - 1,
	    &rp->client_received_at, f) != PINGOO_OK)
		return f->err;
	rp->seq = (uint32_t)seq;
	if (!download && json_object_object_get_ex(o, "client_first_byte_at",
	    &v) && v != NULL)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "client_first_byte_at", "client_first_byte_at is for "
		    "downloads only");
	if (rp->client_received_at < rp->client_sent_at)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "client_received_at", "client_received_at must not be "
		    "before client_sent_at");
	if (download && (rp->client_first_byte_at < rp->client_sent_at ||
	    rp->client_received_at < rp->client_first_byte_at))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "client_first_byte_at", "client_first_byte_at must lie "
		    "between client_sent_at and client_received_at");
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_reports(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	const struct item_list l = { "packets", "tp_max_reports",
	    src->cfg->tp_max_reports, sizeof(struct pingoo_tp_report),
	    report_item };
	void *v;
	size_t n;

	memset(in, 0, sizeof(*in));
	if (item_list(src, &l, &v, &n, f) != PINGOO_OK)
		return f->err;
	in->kind = PINGOO_IN_REPORTS;
	in->u.reports.v = v;
	in->u.reports.n = n;
	return PINGOO_OK;
}

/* ---- latency probes --------------------------------------------------- */

/* Reads "phase" of o into *p. */
static enum pingoo_err
phase_field(struct json_object *o, enum pingoo_phase *p,
    struct pingoo_fault *f)
{
	const char *name;

	if (pingoo_json_str(o, "phase", 1, 16, &name, f) != PINGOO_OK)
		return f->err;
	if (pingoo_phase_parse(name, p) != PINGOO_OK)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "phase", "phase must be idle, download, upload or "
		    "bidirectional");
	return PINGOO_OK;
}

/* Reads the seq of a probe: below PINGOO_TP_MAX_PROBES. */
static enum pingoo_err
probe_seq(struct json_object *o, uint32_t *seq, struct pingoo_fault *f)
{
	int64_t v;

	if (pingoo_json_int(o, "seq", 1, 0, INT32_MAX, &v, f) != PINGOO_OK)
		return f->err;
	if (v >= PINGOO_TP_MAX_PROBES)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "seq", "seq must be below %d, the probes a test may carry",
		    PINGOO_TP_MAX_PROBES);
	*seq = (uint32_t)v;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_probe(const struct pingoo_input_src *src, struct pingoo_input *in,
    struct pingoo_fault *f)
{
	static const char *const keys[] = { "seq", "phase", "client_sent_at",
	    NULL };
	struct pingoo_in_probe *p = &in->u.probe;

	memset(in, 0, sizeof(*in));
	if (pingoo_json_only(src->body, keys, f) != PINGOO_OK ||
	    probe_seq(src->body, &p->seq, f) != PINGOO_OK ||
	    phase_field(src->body, &p->phase, f) != PINGOO_OK ||
	    pingoo_json_int(src->body, "client_sent_at", 1, 1, STAMP_MAX,
	    &p->client_sent_at, f) != PINGOO_OK) {
		memset(in, 0, sizeof(*in));
		return f->err;
	}
	in->kind = PINGOO_IN_PROBE;
	return PINGOO_OK;
}

/* The stamps of a probe receipt that brought them back: all three and a
 * valid signature. */
static enum pingoo_err
probe_stamps(const struct pingoo_input_src *src, struct json_object *o,
    struct pingoo_probe_receipt *r, struct pingoo_fault *f)
{
	struct pingoo_sample x;
	const char *sig = NULL;

	r->t1 = r->t2 = -1;
	if (pingoo_json_int(o, "server_received_at", 0, 1, STAMP_MAX, &r->t1,
	    f) != PINGOO_OK ||
	    pingoo_json_int(o, "server_sent_at", 0, 1, STAMP_MAX, &r->t2, f) !=
	    PINGOO_OK ||
	    pingoo_json_str(o, "sig", 0, 64, &sig, f) != PINGOO_OK)
		return f->err;
	if (sig == NULL && r->t1 < 0 && r->t2 < 0)
		return PINGOO_OK;
	if (sig == NULL || r->t1 < 0 || r->t2 < 0)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "missing_field",
		    "sig", "server_received_at, server_sent_at and sig come "
		    "back together");
	memset(&x, 0, sizeof(x));
	x.seq = r->seq;
	x.t0 = r->t0;
	x.t1 = r->t1;
	x.t2 = r->t2;
	if (!stamps_signed(src, (int)r->phase, &x, sig))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "invalid_sig",
		    "sig", "the stamps do not match the server's signature");
	r->has_stamps = 1;
	return PINGOO_OK;
}

/* Reads receipts[i] of a probe receipts batch. */
static enum pingoo_err
probe_receipt_item(const struct pingoo_input_src *src, struct json_object *o,
    void *dst, struct pingoo_fault *f)
{
	static const char *const keys[] = { "seq", "phase", "client_sent_at",
	    "client_received_at", "server_received_at", "server_sent_at",
	    "sig", NULL };
	struct pingoo_probe_receipt *r = dst;
	struct json_object *v;

	memset(r, 0, sizeof(*r));
	r->t3 = -1;
	if (pingoo_json_only(o, keys, f) != PINGOO_OK ||
	    probe_seq(o, &r->seq, f) != PINGOO_OK ||
	    phase_field(o, &r->phase, f) != PINGOO_OK ||
	    pingoo_json_int(o, "client_sent_at", 1, 1, STAMP_MAX, &r->t0, f) !=
	    PINGOO_OK)
		return f->err;
	/* Present and null: the probe got no answer. */
	if (!json_object_object_get_ex(o, "client_received_at", &v))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "missing_field",
		    "client_received_at", "client_received_at is required "
		    "(null when no answer came)");
	if (v != NULL && pingoo_json_int(o, "client_received_at", 1, 1,
	    STAMP_MAX, &r->t3, f) != PINGOO_OK)
		return f->err;
	if (v != NULL && r->t3 < r->t0)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "client_received_at", "client_received_at must not be "
		    "before client_sent_at");
	return probe_stamps(src, o, r, f);
}

enum pingoo_err
pingoo_in_probe_receipts(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	const struct item_list l = { "receipts", "ping_max_receipts",
	    src->cfg->ping_max_receipts, sizeof(struct pingoo_probe_receipt),
	    probe_receipt_item };
	void *v;
	size_t n;

	memset(in, 0, sizeof(*in));
	if (item_list(src, &l, &v, &n, f) != PINGOO_OK)
		return f->err;
	in->kind = PINGOO_IN_PROBE_RECEIPTS;
	in->u.probe_receipts.v = v;
	in->u.probe_receipts.n = n;
	return PINGOO_OK;
}

/* ---- list queries ------------------------------------------------------- */

/* Parses one "limit" or "cursor" value; others are ignored. */
static enum pingoo_err
page_param(const char *k, size_t klen, const char *v, size_t vlen,
    uint64_t maxlimit, struct pingoo_in_page *p, struct pingoo_fault *f)
{
	uint64_t x;

	if (klen == 5 && memcmp(k, "limit", 5) == 0) {
		if (p->limit != 0 || pingoo_parse_uint(v, vlen, maxlimit, &x) !=
		    PINGOO_OK || x == 0)
			return pingoo_fault_set(f, PINGOO_ERR_INVAL,
			    "invalid_query", "limit", "limit must be one "
			    "integer from 1 to %" PRIu64, maxlimit);
		p->limit = x;
	} else if (klen == 6 && memcmp(k, "cursor", 6) == 0) {
		if (p->cursor != 0 || pingoo_parse_id(v, vlen, &x) != PINGOO_OK)
			return pingoo_fault_set(f, PINGOO_ERR_INVAL,
			    "invalid_query", "cursor", "cursor must be one "
			    "next_cursor value from a previous page");
		p->cursor = x;
	}
	return PINGOO_OK;
}

/* Values are not percent-decoded: ours are digits, and an encoded digit
 * is refused like any other byte. */
enum pingoo_err
pingoo_in_page(const struct pingoo_input_src *src, struct pingoo_input *in,
    struct pingoo_fault *f)
{
	struct pingoo_in_page *p = &in->u.page;
	uint64_t maxlimit = (uint64_t)src->cfg->list_max_limit;
	const char *q = src->query != NULL ? src->query : "", *amp, *eq;

	memset(in, 0, sizeof(*in));
	while (*q != '\0') {
		if ((amp = strchr(q, '&')) == NULL)
			amp = q + strlen(q);
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		if (page_param(q, (size_t)(eq - q), eq < amp ? eq + 1 : eq,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, maxlimit, p, f) !=
		    PINGOO_OK)
			return f->err;
		q = *amp == '&' ? amp + 1 : amp;
	}
	if (p->limit == 0)
		p->limit = maxlimit < PAGE_DEFAULT ? maxlimit : PAGE_DEFAULT;
	in->kind = PINGOO_IN_PAGE;
	return PINGOO_OK;
}

/* ---- export and aggregates queries --------------------------------------- */

/* Splits a query string: calls each(k, klen, v, vlen) per parameter. */
static enum pingoo_err
query_each(const char *q, enum pingoo_err (*each)(const char *, size_t,
    const char *, size_t, void *), void *arg)
{
	const char *amp, *eq;
	enum pingoo_err e;

	q = q != NULL ? q : "";
	while (*q != '\0') {
		if ((amp = strchr(q, '&')) == NULL)
			amp = q + strlen(q);
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		if ((e = each(q, (size_t)(eq - q), eq < amp ? eq + 1 : eq,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, arg)) != PINGOO_OK)
			return e;
		q = *amp == '&' ? amp + 1 : amp;
	}
	return PINGOO_OK;
}

struct export_parse {
	struct pingoo_export_query *x;
	int			 aggregates;
	unsigned		 seen;		/* bits of the keys below */
	struct pingoo_fault	*f;
};

#define KEY_IS(k, n, s) ((n) == sizeof(s) - 1 && memcmp((k), (s), (n)) == 0)

static enum pingoo_err
bad_query(struct export_parse *p, const char *key, const char *what)
{
	return pingoo_fault_set(p->f, PINGOO_ERR_INVAL, "invalid_query", key,
	    "%s must be %s, given once", key, what);
}

static enum pingoo_err
export_param(const char *k, size_t klen, const char *v, size_t vlen,
    void *arg)
{
	struct export_parse *p = arg;
	uint64_t x;
	int g;

	if (KEY_IS(k, klen, "from") || KEY_IS(k, klen, "to")) {
		unsigned bit = k[0] == 'f' ? 1 : 2;
		const char *key = k[0] == 'f' ? "from" : "to";

		if ((p->seen & bit) || pingoo_parse_uint(v, vlen, STAMP_MAX,
		    &x) != PINGOO_OK)
			return bad_query(p, key, "a time in microseconds since "
			    "the epoch (0..2^53)");
		p->seen |= bit;
		*(bit == 1 ? &p->x->from : &p->x->to) = (int64_t)x;
	} else if (KEY_IS(k, klen, "kind")) {
		if (p->seen & 4)
			return bad_query(p, "kind", "ping or throughput");
		p->seen |= 4;
		if (KEY_IS(v, vlen, "ping"))
			p->x->kinds = PINGOO_KIND_PING;
		else if (KEY_IS(v, vlen, "throughput"))
			p->x->kinds = PINGOO_KIND_TP;
		else
			return bad_query(p, "kind", "ping or throughput");
	} else if (p->aggregates && KEY_IS(k, klen, "group")) {
		if ((p->seen & 8) || (g = pingoo_group_parse(v, vlen)) < 0)
			return bad_query(p, "group", "network_type, platform, "
			    "carrier or day");
		p->seen |= 8;
		p->x->group = g;
	}
	return PINGOO_OK;
}

static enum pingoo_err
export_query(const struct pingoo_input_src *src, struct pingoo_input *in,
    int aggregates, struct pingoo_fault *f)
{
	struct export_parse p;

	memset(in, 0, sizeof(*in));
	p.x = &in->u.export;
	p.aggregates = aggregates;
	p.seen = 0;
	p.f = f;
	p.x->from = 0;
	p.x->to = STAMP_MAX;
	p.x->kinds = PINGOO_KIND_ALL;
	p.x->group = PINGOO_GROUP_NETWORK_TYPE;
	if (query_each(src->query, export_param, &p) != PINGOO_OK) {
		memset(in, 0, sizeof(*in));
		return f->err;
	}
	if (p.x->from >= p.x->to) {
		memset(in, 0, sizeof(*in));
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_query",
		    "to", "to must be later than from");
	}
	in->kind = aggregates ? PINGOO_IN_AGGREGATES : PINGOO_IN_EXPORT;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_export(const struct pingoo_input_src *src, struct pingoo_input *in,
    struct pingoo_fault *f)
{
	return export_query(src, in, 0, f);
}

enum pingoo_err
pingoo_in_aggregates(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	return export_query(src, in, 1, f);
}

/* ---- packet queries ----------------------------------------------------- */

/* What packet_param fills. */
struct packet_query {
	const struct pingoo_config	*cfg;
	struct pingoo_in_tp_packet	*p;
	struct pingoo_fault		*f;
};

/* "bytes" of a download; other parameters are ignored (cache busters). */
static enum pingoo_err
packet_param(const char *k, size_t klen, const char *v, size_t vlen,
    void *arg)
{
	struct packet_query *a = arg;
	uint64_t x;

	if (klen != 5 || memcmp(k, "bytes", 5) != 0)
		return PINGOO_OK;
	if (a->p->bytes != 0 || pingoo_parse_uint(v, vlen, UINT64_MAX / 2, &x)
	    != PINGOO_OK || x == 0)
		return pingoo_fault_set(a->f, PINGOO_ERR_INVAL, "invalid_query",
		    "bytes", "bytes must be one positive integer");
	if (size_limits(a->cfg, "bytes", (int64_t)x, a->f) != PINGOO_OK)
		return a->f->err;
	a->p->bytes = x;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_in_tp_packet(const struct pingoo_input_src *src,
    struct pingoo_input *in, struct pingoo_fault *f)
{
	struct packet_query a;

	memset(in, 0, sizeof(*in));
	a.cfg = src->cfg;
	a.p = &in->u.tp_packet;
	a.f = f;
	if (query_each(src->query, packet_param, &a) != PINGOO_OK)
		return f->err;
	in->kind = PINGOO_IN_TP_PACKET;
	return PINGOO_OK;
}

/* ---- credentials -------------------------------------------------------- */

/* No account has a longer name or password (validate.c).  One no account
 * can have (too short, other characters) is not refused here: the handler
 * answers it as wrong credentials, with the same answer and the same work. */
#define TOKEN_USERNAME_MAX	64
#define TOKEN_PASSWORD_MAX	1024

enum pingoo_err
pingoo_in_token(const struct pingoo_input_src *src, struct pingoo_input *in,
    struct pingoo_fault *f)
{
	static const char *const keys[] = { "username", "password", NULL };
	struct pingoo_in_token *t = &in->u.token;
	const char *name, *pw;

	memset(in, 0, sizeof(*in));
	if (pingoo_json_only(src->body, keys, f) != PINGOO_OK ||
	    pingoo_json_str(src->body, "username", 1, TOKEN_USERNAME_MAX,
	    &name, f) != PINGOO_OK ||
	    pingoo_json_str(src->body, "password", 1, TOKEN_PASSWORD_MAX, &pw,
	    f) != PINGOO_OK)
		return f->err;
	if ((t->username = strdup(name)) == NULL ||
	    (t->password = strdup(pw)) == NULL) {
		free(t->username);
		memset(in, 0, sizeof(*in));
		return pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
		    "out of memory");
	}
	in->kind = PINGOO_IN_TOKEN;
	return PINGOO_OK;
}

/* ---- the table ---------------------------------------------------------- */

/* PINGOO_IN_NONE reads nothing: its slot is NULL. */
static const pingoo_validator validators[] = {
	[PINGOO_IN_NONE] =		NULL,
	[PINGOO_IN_PING_CREATE] =	pingoo_in_ping_create,
	[PINGOO_IN_ECHO] =		pingoo_in_echo,
	[PINGOO_IN_RECEIPTS] =		pingoo_in_receipts,
	[PINGOO_IN_TP_CREATE] =		pingoo_in_tp_create,
	[PINGOO_IN_REPORTS] =		pingoo_in_reports,
	[PINGOO_IN_PAGE] =		pingoo_in_page,
	[PINGOO_IN_PROBE] =		pingoo_in_probe,
	[PINGOO_IN_PROBE_RECEIPTS] =	pingoo_in_probe_receipts,
	[PINGOO_IN_EXPORT] =		pingoo_in_export,
	[PINGOO_IN_AGGREGATES] =	pingoo_in_aggregates,
	[PINGOO_IN_TP_PACKET] =	pingoo_in_tp_packet,
	[PINGOO_IN_TOKEN] =		pingoo_in_token,
};
PINGOO_TABLE_CHECK(validators, PINGOO_IN__MAX);

pingoo_validator
pingoo_input_validator(enum pingoo_input_kind k)
{
	return (unsigned)k < PINGOO_IN__MAX ? validators[k] : NULL;
}

void
pingoo_input_clear(struct pingoo_input *in)
{
	switch (in->kind) {
	case PINGOO_IN_PING_CREATE:
		free(in->u.ping_create.client);
		break;
	case PINGOO_IN_RECEIPTS:
		free(in->u.receipts.v);
		break;
	case PINGOO_IN_TP_CREATE:
		free(in->u.tp_create.client);
		break;
	case PINGOO_IN_REPORTS:
		free(in->u.reports.v);
		break;
	case PINGOO_IN_PROBE_RECEIPTS:
		free(in->u.probe_receipts.v);
		break;
	case PINGOO_IN_TOKEN:
		free(in->u.token.username);
		if (in->u.token.password != NULL)
			explicit_bzero(in->u.token.password,
			    strlen(in->u.token.password));
		free(in->u.token.password);
		break;
	default:
		break;
	}
	memset(in, 0, sizeof(*in));
}
