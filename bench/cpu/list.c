// Linked lists, as CoreMark's list kernel: build a 1000-node list, look 64 keys up in it (a
// pointer walk with a data-dependent exit), merge-sort it by key, reverse it, and merge-sort it
// back by position. Pointer-chasing integer code that stays in L1.
#include <stddef.h>

#include "cpubench.h"

enum { kNodes = 1000, kFinds = 64 };

struct node {
  struct node* next;
  uint32_t key;
  uint32_t data;
};

static struct node pool[kNodes];
static uint32_t keys[kNodes];

static void setup(const char* self) {
  (void)self;
  uint64_t s = 0x1234567890abcdefULL;
  for (int i = 0; i < kNodes; ++i) keys[i] = (uint32_t)(rng_next(&s) & 0xffff);
}

static struct node* build(void) {
  for (int i = 0; i < kNodes; ++i) {
    pool[i].key = keys[i];
    pool[i].data = (uint32_t)i;
    pool[i].next = i + 1 < kNodes ? &pool[i + 1] : NULL;
  }
  return &pool[0];
}

// Position of the first node with `key`, or -1.
static int find(const struct node* l, uint32_t key) {
  for (int pos = 0; l; l = l->next, ++pos) {
    if (l->key == key) return pos;
  }
  return -1;
}

static struct node* reverse(struct node* l) {
  struct node* out = NULL;
  while (l) {
    struct node* next = l->next;
    l->next = out;
    out = l;
    l = next;
  }
  return out;
}

static int before(const struct node* a, const struct node* b, int by_key) {
  return by_key ? a->key <= b->key : a->data <= b->data;
}

// Bottom-up merge sort of a singly linked list (stable): runs of 1, 2, 4, ... merged in place.
static struct node* sort(struct node* list, int by_key) {
  for (size_t width = 1;; width *= 2) {
    struct node* p = list;
    struct node* tail = NULL;
    list = NULL;
    size_t merges = 0;
    while (p) {
      ++merges;
      struct node* q = p;
      size_t psize = 0;
      while (psize < width && q) {
        ++psize;
        q = q->next;
      }
      size_t qsize = width;
      while (psize > 0 || (qsize > 0 && q)) {
        struct node* e;
        if (psize == 0) {
          e = q;
          q = q->next;
          --qsize;
        } else if (qsize == 0 || !q || before(p, q, by_key)) {
          e = p;
          p = p->next;
          --psize;
        } else {
          e = q;
          q = q->next;
          --qsize;
        }
        if (tail) {
          tail->next = e;
        } else {
          list = e;
        }
        tail = e;
      }
      p = q;
    }
    tail->next = NULL;
    if (merges <= 1) return list;
  }
}

static uint64_t walk(const struct node* l, uint64_t h) {
  for (; l; l = l->next) h = mix(h, (uint64_t)l->key << 32 | l->data);
  return h;
}

static uint64_t unit(void) {
  struct node* l = build();
  uint64_t h = 0;
  for (int j = 0; j < kFinds; ++j) {
    // Every other key is one that may not be in the list.
    const uint32_t key = keys[(j * 37) % kNodes] ^ (uint32_t)(j & 1);
    h = mix(h, (uint64_t)(uint32_t)find(l, key));
  }
  l = sort(l, 1);
  h = walk(l, h);
  l = reverse(l);
  l = sort(l, 0);
  return walk(l, h);
}

const struct bench bench_list = {"list", "iter", 1, setup, unit, NULL};
