/*
 * deser-canonical.c: a deserialized document as canonical JSON text, so
 * the tests and the fuzz target can check that the tree (jansson) and
 * arena parsers built the same document; see deser-canonical.h.
 */
#include "tests/deser-canonical.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deser-int.h"

struct cbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void cb_put(struct cbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *q;

		while (cap < b->n + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void cb_str(struct cbuf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	char esc[8];

	cb_put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		cb_put(b, s + run, i - run);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			cb_put(b, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			cb_put(b, esc, 6);
		}
		run = i + 1;
	}
	cb_put(b, s + run, n - run);
	cb_put(b, "\"", 1);
}

static void cb_int(struct cbuf *b, long long v)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", v);

	cb_put(b, t, (size_t)n);
}

static void cb_real(struct cbuf *b, double v)
{
	char t[40];
	int n = snprintf(t, sizeof(t), "%.17g", v);

	cb_put(b, t, (size_t)n);
	if (!strpbrk(t, ".en"))
		cb_put(b, ".0", 2);
}

struct member {
	const char *k;
	size_t klen;
	size_t idx;
	const void *v;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->k, y->k, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts members and drops all but the last of equal keys; returns the count kept. */
static size_t members_canon(struct member *m, size_t n)
{
	size_t i, o = 0;

	qsort(m, n, sizeof(*m), member_cmp);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && m[i].klen == m[i + 1].klen && !memcmp(m[i].k, m[i + 1].k, m[i].klen))
			continue;
		m[o++] = m[i];
	}
	return o;
}

static void canon_tree(struct cbuf *b, const json_t *v);
static void canon_jv(struct cbuf *b, const struct jv *v);

static void canon_members(struct cbuf *b, struct member *m, size_t n, bool tree)
{
	size_t i;

	n = members_canon(m, n);
	cb_put(b, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			cb_put(b, ",", 1);
		cb_str(b, m[i].k, m[i].klen);
		cb_put(b, ":", 1);
		if (tree)
			canon_tree(b, m[i].v);
		else
			canon_jv(b, m[i].v);
	}
	cb_put(b, "}", 1);
}

static void canon_tree(struct cbuf *b, const json_t *v)
{
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_NULL: cb_put(b, "null", 4); break;
	case JSON_TRUE: cb_put(b, "true", 4); break;
	case JSON_FALSE: cb_put(b, "false", 5); break;
	case JSON_INTEGER: cb_int(b, json_integer_value(v)); break;
	case JSON_REAL: cb_real(b, json_real_value(v)); break;
	case JSON_STRING: cb_str(b, json_string_value(v), json_string_length(v)); break;
	case JSON_ARRAY:
		cb_put(b, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				cb_put(b, ",", 1);
			canon_tree(b, json_array_get(v, i));
		}
		cb_put(b, "]", 1);
		break;
	case JSON_OBJECT: {
		struct member *m;
		void *it;

		n = json_object_size(v);
		m = malloc((n ? n : 1) * sizeof(*m));
		if (!m) {
			b->oom = true;
			return;
		}
		i = 0;
		for (it = json_object_iter((json_t *)v); it && i < n;
		     it = json_object_iter_next((json_t *)v, it), i++) {
			m[i].k = json_object_iter_key(it);
			m[i].klen = json_object_iter_key_len(it);
			m[i].idx = i;
			m[i].v = json_object_iter_value(it);
		}
		canon_members(b, m, i, true);
		free(m);
		break;
	}
	}
}

static void canon_jv(struct cbuf *b, const struct jv *v)
{
	const struct jv *k;
	size_t i, n;

	switch (v->type) {
	case JV_NULL: cb_put(b, "null", 4); break;
	case JV_TRUE: cb_put(b, "true", 4); break;
	case JV_FALSE: cb_put(b, "false", 5); break;
	case JV_INT: {
		char t[32];	/* the parser allows at most '-' and 19 digits */

		memcpy(t, v->u.s, v->len);
		t[v->len] = '\0';
		cb_int(b, strtoll(t, NULL, 10));
		break;
	}
	case JV_REAL: {
		char *t = malloc((size_t)v->len + 1);

		if (!t) {
			b->oom = true;
			return;
		}
		memcpy(t, v->u.s, v->len);
		t[v->len] = '\0';
		cb_real(b, strtod(t, NULL));
		free(t);
		break;
	}
	case JV_STR: cb_str(b, v->u.s, v->len); break;
	case JV_ARR:
		cb_put(b, "[", 1);
		for (k = v->u.kid, i = 0; k; k = k->next, i++) {
			if (i)
				cb_put(b, ",", 1);
			canon_jv(b, k);
		}
		cb_put(b, "]", 1);
		break;
	case JV_OBJ: {
		struct member *m;

		n = v->len;
		m = malloc((n ? n : 1) * sizeof(*m));
		if (!m) {
			b->oom = true;
			return;
		}
		for (k = v->u.kid, i = 0; k && i < n; k = k->next->next, i++) {
			m[i].k = k->u.s;
			m[i].klen = k->len;
			m[i].idx = i;
			m[i].v = k->next;
		}
		canon_members(b, m, i, false);
		free(m);
		break;
	}
	}
}

int deser_canonical(struct deser *d, char **out, size_t *len)
{
	struct cbuf b = { 0 };
	const json_t *tree;
	const struct jv *root;

	deser_document(d, &tree, &root);
	if (tree)
		canon_tree(&b, tree);
	else if (root)
		canon_jv(&b, root);
	else
		return -EINVAL;
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.n;
	return 0;
}
