/*
 * The target-side pointing task of the latency-in-the-loop lab (lab/loop.ts): one full-screen
 * window on the target display showing a red square at a seeded random position; a click inside it
 * draws the next one elsewhere. The target display's own pointer position is painted into the
 * screen content as a small blue cross, the way an IP-KVM's video carries the target's cursor, so an
 * operator looking through a viewer can find the cursor only as delayed as the video.
 *
 * Usage: loop-target <seed>
 *   Prints "ready" once the first square is drawn, then "hit <n>" after the n-th square was
 *   clicked. Nothing it prints carries a position. Runs until killed.
 *
 * Build: gcc -O2 loop-target.c -o loop-target -lX11 -lm
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MARKER 6 /* half-length of the cursor cross, px */

static uint32_t rng_state;
static double uniform(void) {
  /* mulberry32, the same generator the TypeScript side uses */
  uint32_t t = (rng_state += 0x6d2b79f5u);
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}

struct Square { int x, y, size; };

static int width, height;

static struct Square next_square(const struct Square *previous) {
  struct Square s;
  for (int attempt = 0; attempt < 100; attempt++) {
    s.size = 24 + (int)(uniform() * 33); /* 24..56 px: index of difficulty ~2.5-5.5 bits */
    s.x = 40 + (int)(uniform() * (width - 80 - s.size));
    s.y = 40 + (int)(uniform() * (height - 80 - s.size));
    if (!previous) break;
    double dx = (s.x + s.size / 2.0) - (previous->x + previous->size / 2.0);
    double dy = (s.y + s.size / 2.0) - (previous->y + previous->size / 2.0);
    if (hypot(dx, dy) >= 180) break;
  }
  return s;
}

int main(int argc, char **argv) {
  rng_state = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1u;
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "loop-target: cannot open display\n");
    return 3;
  }
  int screen = DefaultScreen(dpy);
  width = DisplayWidth(dpy, screen);
  height = DisplayHeight(dpy, screen);
  Window root = RootWindow(dpy, screen);
  XSetWindowAttributes attributes;
  attributes.override_redirect = True;
  attributes.background_pixel = WhitePixel(dpy, screen);
  attributes.event_mask = ButtonPressMask | PointerMotionMask | ExposureMask;
  Window window = XCreateWindow(dpy, root, 0, 0, width, height, 0, CopyFromParent, InputOutput, CopyFromParent,
                                CWOverrideRedirect | CWBackPixel | CWEventMask, &attributes);
  XMapRaised(dpy, window);
  Colormap colormap = DefaultColormap(dpy, screen);
  XColor red, blue, exact;
  XAllocNamedColor(dpy, colormap, "#ff0000", &red, &exact);
  XAllocNamedColor(dpy, colormap, "#0000ff", &blue, &exact);
  GC red_gc = XCreateGC(dpy, window, 0, NULL);
  XSetForeground(dpy, red_gc, red.pixel);
  GC blue_gc = XCreateGC(dpy, window, 0, NULL);
  XSetForeground(dpy, blue_gc, blue.pixel);
  XSetLineAttributes(dpy, blue_gc, 2, LineSolid, CapButt, JoinMiter);

  struct Square square = next_square(NULL), drawn = square;
  int marker_x = -100, marker_y = -100, hits = 0, ready = 0;
  Window unused_window;
  int unused, mask_x, mask_y;
  unsigned unused_mask;
  if (XQueryPointer(dpy, window, &unused_window, &unused_window, &marker_x, &marker_y, &mask_x, &mask_y, &unused_mask) == False) {
    marker_x = marker_y = -100;
  }
  (void)unused;
  int drawn_x = marker_x, drawn_y = marker_y;

  for (;;) {
    XEvent event;
    XNextEvent(dpy, &event);
    int redraw = 0;
    switch (event.type) {
      case Expose:
        redraw = event.xexpose.count == 0;
        break;
      case MotionNotify:
        /* Only the newest position matters: collapse a queue of motion events. */
        while (XCheckTypedWindowEvent(dpy, window, MotionNotify, &event)) {
        }
        marker_x = event.xmotion.x;
        marker_y = event.xmotion.y;
        redraw = 1;
        break;
      case ButtonPress:
        marker_x = event.xbutton.x;
        marker_y = event.xbutton.y;
        if (marker_x >= square.x && marker_x < square.x + square.size && marker_y >= square.y && marker_y < square.y + square.size) {
          hits++;
          square = next_square(&square);
          printf("hit %d\n", hits);
          fflush(stdout);
        }
        redraw = 1;
        break;
      default:
        break;
    }
    if (!redraw) continue;
    /* Clear only what changed, never the whole window: a screen poll between a clear and the
     * redraw would otherwise show the operator an empty screen. */
    XClearArea(dpy, window, drawn_x - MARKER - 2, drawn_y - MARKER - 2, 2 * MARKER + 5, 2 * MARKER + 5, False);
    if (drawn.x != square.x || drawn.y != square.y || drawn.size != square.size) {
      XClearArea(dpy, window, drawn.x, drawn.y, (unsigned)drawn.size, (unsigned)drawn.size, False);
    }
    drawn = square;
    drawn_x = marker_x;
    drawn_y = marker_y;
    XFillRectangle(dpy, window, red_gc, square.x, square.y, (unsigned)square.size, (unsigned)square.size);
    XDrawLine(dpy, window, blue_gc, marker_x - MARKER, marker_y, marker_x + MARKER, marker_y);
    XDrawLine(dpy, window, blue_gc, marker_x, marker_y - MARKER, marker_x, marker_y + MARKER);
    XFlush(dpy);
    if (!ready) {
      ready = 1;
      printf("ready\n");
      fflush(stdout);
    }
  }
}
