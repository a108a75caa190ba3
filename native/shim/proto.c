/*
 * proto.c: frames and records of the shim's sockets (see proto.h). Pure
 * byte handling: fuzzed by test/unit/shim/fuzz.test.ts.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#include "../plan-codec.h"

int buf_put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
      return -1;
    b->data = d;
    b->cap = cap;
  }
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void buf_drop(struct buf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
  } else {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
  }
  /* Give back a large buffer once it is empty (a burst of output or a plan). */
  if (b->len == 0 && b->cap > 65536) {
    buf_free(b);
  }
}

void buf_free(struct buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* A record header with a placeholder length; returns where it starts. */
static size_t header(struct buf *b, uint8_t type) {
  uint8_t h[5] = {type, 0, 0, 0, 0};
  size_t at = b->len;
  buf_put(b, h, sizeof h);
  return at;
}

static void fill_length(struct buf *b, size_t at) {
  if (at + 5 <= b->len)
    put_be32(b->data + at + 1, (uint32_t)(b->len - at - 5));
}

size_t frame_begin(struct buf *b, uint8_t type) { return header(b, type); }
void frame_end(struct buf *b, size_t at) { fill_length(b, at); }
size_t rec_open(struct buf *b, uint8_t tag) { return header(b, tag); }
void rec_close(struct buf *b, size_t at) { fill_length(b, at); }

void rec_bytes(struct buf *b, uint8_t tag, const void *p, uint32_t n) {
  size_t at = header(b, tag);
  buf_put(b, p, n);
  fill_length(b, at);
}

void rec_str(struct buf *b, uint8_t tag, const char *s) {
  rec_bytes(b, tag, s, (uint32_t)strlen(s) + 1);
}

void rec_u8(struct buf *b, uint8_t tag, uint8_t v) { rec_bytes(b, tag, &v, 1); }

void rec_u32(struct buf *b, uint8_t tag, uint32_t v) {
  uint8_t p[4];
  put_be32(p, v);
  rec_bytes(b, tag, p, 4);
}

void rec_u64(struct buf *b, uint8_t tag, uint64_t v) {
  uint8_t p[8];
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
  rec_bytes(b, tag, p, 8);
}

int frame_next(struct buf *in, size_t *off, size_t max, uint8_t *type, const uint8_t **payload,
               uint32_t *len) {
  size_t avail = in->len - *off;
  if (avail < 5)
    return 0;
  const uint8_t *p = in->data + *off;
  uint32_t n = plan_u32(p + 1);
  if (n > max)
    return -1;
  if (avail - 5 < n)
    return 0;
  *type = p[0];
  *payload = p + 5;
  *len = n;
  *off += 5 + (size_t)n;
  return 1;
}
