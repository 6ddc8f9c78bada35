/*
 * telltale-xi2: which device each X input event came from, and nothing else.
 *
 * Listens to XInput2 raw events on the root window (XI_RawKeyPress, XI_RawButtonPress, and with
 * --pointer-motion XI_RawMotion); each carries the `sourceid` of the slave device that produced
 * it. The X server's XTEST slave devices ("Virtual core XTEST keyboard" / "... XTEST pointer")
 * are where every XTestFake*Event call lands: remote-control servers (x11vnc, Xvnc's vncconfig
 * paths, xrdp's xorgxrdp input, xdotool) inject there, while a person's keyboard and mouse are
 * physical slaves.
 *
 * Raw motion only on request: while any client selects XI_RawMotion the X server makes raw motion
 * events for every pointer update, and every other client that reads input through XRecord (the
 * agent's own hook, any other) pays about five times its CPU per event (measured in
 * bench/groups/input.ts: a bare uiohook listener 18 -> 102 ms per 1,000 events). Without it,
 * injected pointer input is counted from button presses and wheel notches only.
 *
 * Output: counts, never events. Every FLUSH_MS at most, when anything happened, one line
 * "n <xk> <dk> <xp> <dp> <xc> <dc>": key presses, pointer events (motion, wheel notches) and clicks
 * (presses of real buttons), each from XTEST devices (x) and from any other device (d). Counting
 * here rather than printing each event keeps the agent from waking for every pointer update (a
 * line per event cost the agent about 0.15 ms of CPU per event in bench/groups/input.ts), and keeps
 * even event times out of the pipe. Never a keycode, a button number or a coordinate: the event's
 * `detail` is read only to tell a wheel notch from a click. A first line "ready" says the
 * selection is in place; errors go to stderr, one line.
 *
 * Build: cc -O2 x11-source-devices.c -o telltale-xi2 -lXi -lX11
 * Usage: telltale-xi2 [--pointer-motion]
 */
#include <X11/Xlib.h>
#include <X11/extensions/XInput2.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 1024
/* Longest a count waits before it is written (ms). */
#define FLUSH_MS 250

/* 1 when the slave device with this id is an XTEST device; refreshed on hierarchy changes. */
static unsigned char is_xtest[MAX_DEVICES];
static unsigned char known[MAX_DEVICES];

static void load_devices(Display *display) {
  int count = 0;
  XIDeviceInfo *devices = XIQueryDevice(display, XIAllDevices, &count);
  memset(is_xtest, 0, sizeof is_xtest);
  memset(known, 0, sizeof known);
  for (int i = 0; i < count; i++) {
    int id = devices[i].deviceid;
    if (id < 0 || id >= MAX_DEVICES) continue;
    known[id] = 1;
    is_xtest[id] = devices[i].name != NULL && strstr(devices[i].name, "XTEST") != NULL;
  }
  XIFreeDeviceInfo(devices);
}

/* Counts since the last line: [class][source], class 0 key, 1 pointer, 2 click; source 0 XTEST, 1 other. */
static unsigned long counts[3][2];

static long long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Write the counts if any; returns 0 when stdout is gone (the agent exited). */
static int flush_counts(void) {
  if ((counts[0][0] | counts[0][1] | counts[1][0] | counts[1][1] | counts[2][0] | counts[2][1]) == 0) return 1;
  printf("n %lu %lu %lu %lu %lu %lu\n", counts[0][0], counts[0][1], counts[1][0], counts[1][1], counts[2][0], counts[2][1]);
  memset(counts, 0, sizeof counts);
  return fflush(stdout) != EOF;
}

static void set_bit(unsigned char *mask, int bit) { mask[bit >> 3] |= (unsigned char)(1 << (bit & 7)); }

int main(int argc, char **argv) {
  /* Die with the agent, even when it is killed without a chance to stop us. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  int pointer_motion = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--pointer-motion") == 0) {
      pointer_motion = 1;
    } else {
      fprintf(stderr, "unknown argument (usage: telltale-xi2 [--pointer-motion])\n");
      return 2;
    }
  }
  Display *display = XOpenDisplay(NULL);
  if (display == NULL) {
    fprintf(stderr, "cannot open the X display\n");
    return 2;
  }
  int opcode, first_event, first_error;
  if (!XQueryExtension(display, "XInputExtension", &opcode, &first_event, &first_error)) {
    fprintf(stderr, "the X server has no XInput extension\n");
    return 3;
  }
  /* 2.1: raw events reach the root window of every client, not only a grabbing one. */
  int major = 2, minor = 1;
  if (XIQueryVersion(display, &major, &minor) != Success || (major == 2 && minor < 1)) {
    fprintf(stderr, "the X server does not offer XInput 2.1\n");
    return 3;
  }
  load_devices(display);

  /* Raw events through the master devices (each once, its sourceid naming the slave), and
     hierarchy changes from every device so a newly plugged or created device is classified. */
  unsigned char raw_bits[XIMaskLen(XI_LASTEVENT)];
  unsigned char hierarchy_bits[XIMaskLen(XI_LASTEVENT)];
  memset(raw_bits, 0, sizeof raw_bits);
  memset(hierarchy_bits, 0, sizeof hierarchy_bits);
  set_bit(raw_bits, XI_RawKeyPress);
  set_bit(raw_bits, XI_RawButtonPress);
  if (pointer_motion) set_bit(raw_bits, XI_RawMotion);
  set_bit(hierarchy_bits, XI_HierarchyChanged);
  XIEventMask masks[2] = {
      {.deviceid = XIAllMasterDevices, .mask_len = sizeof raw_bits, .mask = raw_bits},
      {.deviceid = XIAllDevices, .mask_len = sizeof hierarchy_bits, .mask = hierarchy_bits},
  };
  XISelectEvents(display, DefaultRootWindow(display), masks, 2);
  XSync(display, False);
  fputs("ready\n", stdout);
  fflush(stdout);

  int fd = ConnectionNumber(display);
  long long due = -1; /* when the pending counts must be written; -1: nothing pending */
  for (;;) {
    if (XPending(display) == 0) {
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(fd, &readable);
      struct timeval wait = {0, 0};
      long long left = due < 0 ? -1 : due - now_ms();
      if (left > 0) wait.tv_usec = (suseconds_t)(left * 1000);
      int ready = due < 0 ? select(fd + 1, &readable, NULL, NULL, NULL) : left > 0 ? select(fd + 1, &readable, NULL, NULL, &wait) : 0;
      if (ready < 0 && errno != EINTR) return 0;
      if (ready <= 0) {
        if (due >= 0 && now_ms() >= due) {
          if (!flush_counts()) return 0;
          due = -1;
        }
        continue;
      }
      /* Readable: XPending reads the connection (and fails out through Xlib's I/O handler when the server is gone). */
      if (XPending(display) == 0) continue;
    }
    XEvent event;
    XNextEvent(display, &event);
    XGenericEventCookie *cookie = &event.xcookie;
    if (cookie->type != GenericEvent || cookie->extension != opcode || !XGetEventData(display, cookie)) continue;
    int line_class = -1;
    int source = -1;
    if (cookie->evtype == XI_HierarchyChanged) {
      load_devices(display);
    } else {
      XIRawEvent *raw = (XIRawEvent *)cookie->data;
      source = raw->sourceid;
      if (cookie->evtype == XI_RawKeyPress) {
        line_class = 0;
      } else if (cookie->evtype == XI_RawMotion) {
        line_class = 1;
      } else if (cookie->evtype == XI_RawButtonPress) {
        /* Buttons 4-7 are wheel notches (X's core protocol convention), not clicks. */
        line_class = raw->detail >= 4 && raw->detail <= 7 ? 1 : 2;
      }
    }
    XFreeEventData(display, cookie);
    if (line_class < 0) continue;
    if (source >= 0 && source < MAX_DEVICES && !known[source]) load_devices(display);
    int injected = source >= 0 && source < MAX_DEVICES && is_xtest[source];
    counts[line_class][injected ? 0 : 1]++;
    if (due < 0) due = now_ms() + FLUSH_MS;
  }
}
