/*
 * The closed-loop operator of the latency-in-the-loop lab (lab/loop.ts): a simulated person on the
 * operator display who looks at the remote screen through the viewer and steers the pointer to the
 * red squares drawn by lab/loop-target.c, with XTEST, so every delay between the target display and
 * the operator's eyes enters the control loop the way it does for a person.
 *
 * Seeing: the viewer's image is read from the operator display (XShmGetImage, else XGetImage) at a
 * video-like frame rate; the target is the centroid of red pixels. Where the cursor is seen depends
 * on the mode:
 *   vnc  the operator's own pointer, drawn by the viewer locally, so seen at once;
 *   kvm  the target's cursor painted into the video (the blue cross), so seen only as late as the
 *        video: the whole round trip of pointer input and screen update is in the loop.
 * Acting: after a reaction time, a minimum-jerk submovement of Fitts'-law duration towards the
 * target with endpoint noise; then, once the seen cursor has come to rest, a verification pause and
 * either a click (cursor seen inside the square) or a corrective submovement from where the cursor
 * is seen. Waiting for the seen cursor to settle is the move-and-wait strategy people adopt under lag.
 *
 * Usage: loop-operator <vnc|kvm> <seed> <origin-x> <origin-y> <width> <height> [name=value ...]
 *   Persona values (defaults in parentheses): rt (230) and rt_sd (35) reaction time, ms;
 *   fitts_a (60) ms and fitts_b (130) ms/bit; verify (140) and verify_sd (35) ms; hold (95) ms;
 *   gain (0.95) of the planned amplitude; noise (1.0) endpoint-noise scale; rate (125) Hz device
 *   reports; fps (60) frames seen per second.
 *   Prints "start <realtime|normal>" and, per reached square, "trial <corrections>"; on SIGTERM
 *   "frames <n> <mean-grab-us>". Never prints a position.
 *
 * Build: gcc -O2 loop-operator.c -o loop-operator -lXtst -lXext -lX11 -lm
 */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

static uint32_t rng_state;
static double uniform(void) {
  uint32_t t = (rng_state += 0x6d2b79f5u);
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}
static double gaussian(void) {
  double u = uniform(), v = uniform();
  if (u < 1e-12) u = 1e-12;
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}
/* A positive duration: mean with a relative spread, never below `floor`. */
static double jittered(double mean, double sd, double floor) {
  double value = mean + sd * gaussian();
  return value < floor ? floor : value;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static volatile sig_atomic_t stopping = 0;
static void on_signal(int signal) {
  (void)signal;
  stopping = 1;
}

struct Persona {
  double rt, rt_sd, fitts_a, fitts_b, verify, verify_sd, hold, gain, noise, rate, fps, trace;
};

static void set_value(struct Persona *p, const char *arg) {
  char name[32];
  double value;
  if (sscanf(arg, "%31[a-z_]=%lf", name, &value) != 2) {
    fprintf(stderr, "loop-operator: bad setting '%s'\n", arg);
    exit(2);
  }
  if (strcmp(name, "rt") == 0) p->rt = value;
  else if (strcmp(name, "rt_sd") == 0) p->rt_sd = value;
  else if (strcmp(name, "fitts_a") == 0) p->fitts_a = value;
  else if (strcmp(name, "fitts_b") == 0) p->fitts_b = value;
  else if (strcmp(name, "verify") == 0) p->verify = value;
  else if (strcmp(name, "verify_sd") == 0) p->verify_sd = value;
  else if (strcmp(name, "hold") == 0) p->hold = value;
  else if (strcmp(name, "gain") == 0) p->gain = value;
  else if (strcmp(name, "noise") == 0) p->noise = value;
  else if (strcmp(name, "rate") == 0) p->rate = value;
  else if (strcmp(name, "fps") == 0) p->fps = value;
  else if (strcmp(name, "trace") == 0) p->trace = value;
  else {
    fprintf(stderr, "loop-operator: unknown setting '%s'\n", name);
    exit(2);
  }
}

/* What one frame shows: the red square (centroid and size) and the blue cursor cross, if present. */
struct Frame {
  int target_seen, cursor_seen;
  double target_x, target_y, target_size, cursor_x, cursor_y;
};

struct Grabber {
  Display *dpy;
  Window root;
  int x, y, width, height, shm;
  XImage *image;
  XShmSegmentInfo info;
};

static void grabber_open(struct Grabber *g) {
  int screen = DefaultScreen(g->dpy);
  g->root = RootWindow(g->dpy, screen);
  g->shm = XShmQueryExtension(g->dpy);
  if (g->shm) {
    g->image = XShmCreateImage(g->dpy, DefaultVisual(g->dpy, screen), (unsigned)DefaultDepth(g->dpy, screen), ZPixmap, NULL, &g->info,
                               (unsigned)g->width, (unsigned)g->height);
    g->info.shmid = shmget(IPC_PRIVATE, (size_t)g->image->bytes_per_line * g->image->height, IPC_CREAT | 0600);
    g->info.shmaddr = g->image->data = shmat(g->info.shmid, NULL, 0);
    g->info.readOnly = False;
    XShmAttach(g->dpy, &g->info);
    XSync(g->dpy, False);
    /* Marked for removal now, so the segment cannot outlive this process whatever ends it. */
    shmctl(g->info.shmid, IPC_RMID, NULL);
  }
}

/* Read the viewer's area and find the square and the cross (every second pixel is enough). */
static struct Frame grab(struct Grabber *g) {
  struct Frame frame = {0};
  XImage *image = g->image;
  if (g->shm) {
    XShmGetImage(g->dpy, g->root, image, g->x, g->y, AllPlanes);
  } else {
    image = XGetImage(g->dpy, g->root, g->x, g->y, (unsigned)g->width, (unsigned)g->height, AllPlanes, ZPixmap);
    if (!image) return frame;
  }
  double red_x = 0, red_y = 0, blue_x = 0, blue_y = 0;
  long red = 0, blue = 0;
  int min_x = g->width, max_x = -1;
  for (int y = 0; y < g->height; y += 2) {
    const uint32_t *row = (const uint32_t *)(image->data + (size_t)y * image->bytes_per_line);
    for (int x = 0; x < g->width; x += 2) {
      uint32_t pixel = row[x];
      int r = (pixel >> 16) & 0xff, gr = (pixel >> 8) & 0xff, b = pixel & 0xff;
      if (r > 170 && gr < 110 && b < 110) {
        red_x += x;
        red_y += y;
        red++;
        if (x < min_x) min_x = x;
        if (x > max_x) max_x = x;
      } else if (b > 170 && r < 110 && gr < 110) {
        blue_x += x;
        blue_y += y;
        blue++;
      }
    }
  }
  if (!g->shm) XDestroyImage(image);
  if (red >= 16) {
    frame.target_seen = 1;
    frame.target_x = red_x / red;
    frame.target_y = red_y / red;
    frame.target_size = max_x - min_x + 2;
  }
  if (blue >= 3) {
    frame.cursor_seen = 1;
    frame.cursor_x = blue_x / blue;
    frame.cursor_y = blue_y / blue;
  }
  return frame;
}

enum State { WAIT_TARGET, REACT, MOVE, SETTLE, VERIFY, HOLD };

int main(int argc, char **argv) {
  if (argc < 7 || (strcmp(argv[1], "vnc") != 0 && strcmp(argv[1], "kvm") != 0)) {
    fprintf(stderr, "usage: loop-operator <vnc|kvm> <seed> <origin-x> <origin-y> <width> <height> [name=value ...]\n");
    return 2;
  }
  int kvm = strcmp(argv[1], "kvm") == 0;
  rng_state = (uint32_t)strtoul(argv[2], NULL, 10);
  struct Persona p = {230, 35, 60, 130, 140, 35, 95, 0.95, 1.0, 125, 60, 0};
  for (int i = 7; i < argc; i++) set_value(&p, argv[i]);

  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "loop-operator: cannot open display\n");
    return 3;
  }
  int ev, er, maj, min;
  if (!XTestQueryExtension(dpy, &ev, &er, &maj, &min)) {
    fprintf(stderr, "loop-operator: XTEST extension missing\n");
    return 3;
  }
  struct Grabber grabber = {.dpy = dpy, .x = atoi(argv[3]), .y = atoi(argv[4]), .width = atoi(argv[5]), .height = atoi(argv[6])};
  grabber_open(&grabber);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  struct sched_param param = {.sched_priority = 40};
  int realtime = sched_setscheduler(0, SCHED_FIFO, &param) == 0;
  printf("start %s\n", realtime ? "realtime" : "normal");
  fflush(stdout);

  /* The hand: where this operator's own pointer is, in target-display coordinates. */
  double hand_x = grabber.width / 2.0, hand_y = grabber.height / 2.0;
  XTestFakeMotionEvent(dpy, -1, grabber.x + (int)lround(hand_x), grabber.y + (int)lround(hand_y), CurrentTime);
  XFlush(dpy);
  int sent_x = (int)lround(hand_x), sent_y = (int)lround(hand_y);

  enum State state = WAIT_TARGET;
  struct Frame seen = {0};
  double clicked_x = -1e9, clicked_y = -1e9, clicked_at = -1e9;
  double until = 0; /* end of the current timed wait (REACT, VERIFY, HOLD) */
  double move_start = 0, move_duration = 0, from_x = 0, from_y = 0, to_x = 0, to_y = 0, bend = 0;
  double next_report = 0, next_frame = 0;
  double settle_since = 0, last_seen_cursor_x = -1e9, last_seen_cursor_y = -1e9, move_seen_x = 0, move_seen_y = 0;
  double still_since = 0, update_interval = 1000.0 / 60;
  int corrections = 0;
  long frames = 0;
  double grab_total_us = 0;
  const double report_ms = 1000.0 / p.rate, frame_ms = 1000.0 / p.fps;

  while (!stopping) {
    double t = now_ms();
    if (t >= next_frame) {
      double before = now_ms();
      struct Frame frame = grab(&grabber);
      grab_total_us += (now_ms() - before) * 1000.0;
      frames++;
      next_frame = (next_frame == 0 ? t : next_frame) + frame_ms;
      if (next_frame < t) next_frame = t + frame_ms;
      if (frame.cursor_seen) {
        int still = fabs(frame.cursor_x - last_seen_cursor_x) < 1.5 && fabs(frame.cursor_y - last_seen_cursor_y) < 1.5;
        if (!still) {
          /* How often the remote picture changes while the cursor moves: a person watching a
           * choppy screen learns it, and judges "stopped" against it. */
          double interval = t - still_since;
          if (still_since >= move_start && interval < 600) update_interval = 0.8 * update_interval + 0.2 * interval;
          still_since = t;
        }
        last_seen_cursor_x = frame.cursor_x;
        last_seen_cursor_y = frame.cursor_y;
      }
      if (frame.target_seen) {
        seen.target_seen = 1;
        seen.target_x = frame.target_x;
        seen.target_y = frame.target_y;
        seen.target_size = frame.target_size;
      } else {
        seen.target_seen = 0;
      }
      if (frame.cursor_seen) {
        seen.cursor_seen = 1;
        seen.cursor_x = frame.cursor_x;
        seen.cursor_y = frame.cursor_y;
      }
    }
    /* Where the operator believes the cursor is. */
    double cursor_x = kvm ? seen.cursor_x : hand_x, cursor_y = kvm ? seen.cursor_y : hand_y;
    int cursor_known = kvm ? seen.cursor_seen : 1;

    switch (state) {
      case WAIT_TARGET:
        /* A square somewhere other than the one just clicked is a new target. After a click that
         * missed, the same square stays: look again once the screen has had time to change. */
        if (seen.target_seen && cursor_known &&
            (hypot(seen.target_x - clicked_x, seen.target_y - clicked_y) > 30 || t - clicked_at > 1500)) {
          if (hypot(seen.target_x - clicked_x, seen.target_y - clicked_y) > 30) corrections = 0;
          state = REACT;
          until = t + jittered(p.rt, p.rt_sd, 120);
        }
        break;
      case REACT:
      case VERIFY: {
        if (t < until) break;
        double size = seen.target_size > 4 ? seen.target_size : 24;
        double dx = seen.target_x - cursor_x, dy = seen.target_y - cursor_y;
        double distance = hypot(dx, dy);
        /* Click only when the cursor is seen clearly inside, not on the edge. */
        double margin = size * 0.15 > 3 ? size * 0.15 : 3;
        if (state == VERIFY && fabs(dx) < size / 2 - margin && fabs(dy) < size / 2 - margin) {
          XTestFakeButtonEvent(dpy, 1, True, CurrentTime);
          XFlush(dpy);
          /* The square clicked is the one seen now: with no delay the next one may already show
           * before the button is released. */
          clicked_x = seen.target_x;
          clicked_y = seen.target_y;
          state = HOLD;
          until = t + jittered(p.hold, p.hold * 0.2, 40);
          break;
        }
        if (state == VERIFY) corrections++;
        if (p.trace > 0) {
          fprintf(stderr, "%.0f %s hand %.0f,%.0f cursor %.0f,%.0f target %.0f,%.0f size %.0f\n", t, state == VERIFY ? "correct" : "react", hand_x, hand_y, cursor_x, cursor_y,
                  seen.target_x, seen.target_y, size);
        }
        /* Plan a submovement: amplitude scaled by the persona's gain, endpoint noise growing with
         * amplitude (more along the path than across it), Fitts'-law duration with its own noise. */
        double gain = p.gain + 0.03 * gaussian();
        double along = (0.05 * distance + 0.8) * p.noise * gaussian();
        double across = (0.03 * distance + 0.8) * p.noise * gaussian();
        double ux = distance > 0 ? dx / distance : 1, uy = distance > 0 ? dy / distance : 0;
        double reach = distance * gain + along;
        from_x = hand_x;
        from_y = hand_y;
        to_x = hand_x + ux * reach - uy * across;
        to_y = hand_y + uy * reach + ux * across;
        if (to_x < 0) to_x = 0;
        if (to_y < 0) to_y = 0;
        if (to_x > grabber.width - 1) to_x = grabber.width - 1;
        if (to_y > grabber.height - 1) to_y = grabber.height - 1;
        double bits = log2(distance / size + 1);
        move_duration = jittered(p.fitts_a + p.fitts_b * bits, 0.1 * (p.fitts_a + p.fitts_b * bits), 70);
        bend = 0.04 * gaussian();
        move_start = t;
        next_report = t;
        move_seen_x = seen.cursor_x;
        move_seen_y = seen.cursor_y;
        state = MOVE;
        break;
      }
      case MOVE: {
        if (t < next_report) break;
        next_report += report_ms;
        double tau = (t - move_start) / move_duration;
        if (tau > 1) tau = 1;
        /* Minimum-jerk profile, with a slight sideways bend peaking mid-movement. */
        double s = tau * tau * tau * (10 - 15 * tau + 6 * tau * tau);
        double dx = to_x - from_x, dy = to_y - from_y;
        double side = bend * sin(M_PI * tau);
        hand_x = from_x + dx * s - dy * side;
        hand_y = from_y + dy * s + dx * side;
        int x = (int)lround(hand_x), y = (int)lround(hand_y);
        /* A mouse reports only when it moved a whole count. */
        if (x != sent_x || y != sent_y) {
          XTestFakeMotionEvent(dpy, -1, grabber.x + x, grabber.y + y, CurrentTime);
          XFlush(dpy);
          sent_x = x;
          sent_y = y;
        }
        if (tau >= 1) {
          state = SETTLE;
          settle_since = t;
        }
        break;
      }
      case SETTLE: {
        /* vnc: the own cursor is seen at once. kvm: wait until the cursor in the video has moved
         * (or a long while passed) and then stood still for 100 ms, or longer on a choppy screen:
         * VNC over a long round trip shows a few pictures a second, so a picture or two without
         * change does not yet mean the cursor stopped. */
        int settled = !kvm;
        if (kvm) {
          int moved = hypot(seen.cursor_x - move_seen_x, seen.cursor_y - move_seen_y) > 1.5 || t - settle_since > 600;
          double enough = 1.5 * update_interval > 100 ? 1.5 * update_interval : 100;
          settled = moved && t - still_since >= enough;
        }
        if (settled) {
          state = VERIFY;
          until = t + jittered(p.verify, p.verify_sd, 50);
        }
        break;
      }
      case HOLD:
        if (t < until) break;
        XTestFakeButtonEvent(dpy, 1, False, CurrentTime);
        XFlush(dpy);
        printf("trial %d\n", corrections);
        fflush(stdout);
        clicked_at = t;
        state = WAIT_TARGET;
        break;
    }
    struct timespec pause = {0, 500000};
    nanosleep(&pause, NULL);
  }
  printf("frames %ld %.0f\n", frames, frames > 0 ? grab_total_us / frames : 0);
  fflush(stdout);
  XCloseDisplay(dpy);
  return 0;
}
