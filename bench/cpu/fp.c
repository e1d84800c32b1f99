// Floating point in double: n-body (the five Jovian planets of the Computer Language Benchmarks
// Game, 1000 steps of 0.01 days: subtractions, multiplies, a square root and a division per
// pair) and a 48x48 matrix multiply (dgemm: multiply-adds over 54 KiB). Only + - * / and sqrt,
// which IEEE 754 rounds exactly, and no contraction into fused multiply-adds (cpu.py builds
// with -ffp-contract=off), so the checksums, the results' bit patterns, are the same on every
// host.
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "cpubench.h"

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

// ---- n-body ----

enum { kBodies = 5, kSteps = 1000 };
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body {
  double x, y, z, vx, vy, vz, mass;
};

static const struct body initial[kBodies] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};
static struct body bodies[kBodies];

static void advance(double dt) {
  for (int i = 0; i < kBodies; ++i) {
    struct body* a = &bodies[i];
    for (int j = i + 1; j < kBodies; ++j) {
      struct body* b = &bodies[j];
      const double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      const double d2 = dx * dx + dy * dy + dz * dz;
      const double mag = dt / (d2 * sqrt(d2));
      a->vx -= dx * b->mass * mag;
      a->vy -= dy * b->mass * mag;
      a->vz -= dz * b->mass * mag;
      b->vx += dx * a->mass * mag;
      b->vy += dy * a->mass * mag;
      b->vz += dz * a->mass * mag;
    }
  }
  for (int i = 0; i < kBodies; ++i) {
    bodies[i].x += dt * bodies[i].vx;
    bodies[i].y += dt * bodies[i].vy;
    bodies[i].z += dt * bodies[i].vz;
  }
}

static double energy(void) {
  double e = 0;
  for (int i = 0; i < kBodies; ++i) {
    const struct body* a = &bodies[i];
    e += 0.5 * a->mass * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
    for (int j = i + 1; j < kBodies; ++j) {
      const struct body* b = &bodies[j];
      const double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      e -= a->mass * b->mass / sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

static void nbody_setup(const char* self) { (void)self; }

static uint64_t nbody_unit(void) {
  memcpy(bodies, initial, sizeof bodies);
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < kBodies; ++i) {
    px += bodies[i].vx * bodies[i].mass;
    py += bodies[i].vy * bodies[i].mass;
    pz += bodies[i].vz * bodies[i].mass;
  }
  bodies[0].vx = -px / SOLAR_MASS;
  bodies[0].vy = -py / SOLAR_MASS;
  bodies[0].vz = -pz / SOLAR_MASS;
  uint64_t h = bits(energy());
  for (int s = 0; s < kSteps; ++s) advance(0.01);
  h = mix(h, bits(energy()));
  for (int i = 0; i < kBodies; ++i) h = mix(mix(h, bits(bodies[i].x)), bits(bodies[i].vz));
  return h;
}

const struct bench bench_nbody = {"nbody", "iter", 1, nbody_setup, nbody_unit, NULL};

// ---- dgemm ----

enum { kN = 48 };
static double ma[kN][kN], mb[kN][kN], mc[kN][kN];

static void dgemm_setup(const char* self) {
  (void)self;
  uint64_t s = 0xdeadbeef8badf00dULL;
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) {
      ma[i][j] = (double)((int)(rng_next(&s) % 2001) - 1000) / 64.0;
      mb[i][j] = (double)((int)(rng_next(&s) % 2001) - 1000) / 3.0;
    }
  }
}

static uint64_t dgemm_unit(void) {
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) mc[i][j] = 0;
    for (int k = 0; k < kN; ++k) {
      const double x = ma[i][k];
      for (int j = 0; j < kN; ++j) mc[i][j] += x * mb[k][j];
    }
  }
  uint64_t h = 0;
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) h = mix(h, bits(mc[i][j]));
  }
  return h;
}

const struct bench bench_dgemm = {"dgemm", "iter", 1, dgemm_setup, dgemm_unit, NULL};
