/**
 * Telltale's own catalog entries: tools LOLRMM lacks (mostly Linux and macOS hosts) and per-OS
 * process names for LOLRMM tools whose LOLRMM data is Windows-only.
 *
 * An entry whose id matches a LOLRMM entry is merged into it (lists are unioned; name and category
 * here win). Names come from the vendors' packages: the executable names a host process runs
 * under (the side that is controlled), not viewers. Process names are compared lowercase.
 */
import type { ToolCategory } from '../../agent/detect/catalog/catalog';

export interface ExtraEntry {
  readonly id: string;
  readonly name: string;
  readonly category: ToolCategory;
  readonly win32?: readonly string[];
  readonly darwin?: readonly string[];
  readonly linux?: readonly string[];
  readonly win32Paths?: readonly string[];
  readonly darwinPaths?: readonly string[];
  readonly linuxPaths?: readonly string[];
  readonly ports?: readonly number[];
  readonly domains?: readonly string[];
}

/** LOLRMM ids (kebab-case of LOLRMM's Name) merged into one Telltale id. */
export const ID_ALIASES: Readonly<Record<string, string>> = {
  'gotoassist-goto-resolve': 'goto-resolve',
};

export const EXTRA_ENTRIES: readonly ExtraEntry[] = [
  // --- VNC servers ---------------------------------------------------------------------------
  { id: 'x11vnc', name: 'x11vnc', category: 'vnc', linux: ['x11vnc'], darwin: ['x11vnc'], linuxPaths: ['/usr/bin/x11vnc'], ports: [5900] },
  {
    id: 'tigervnc',
    name: 'TigerVNC / TightVNC X server (Xvnc)',
    category: 'vnc',
    linux: ['xvnc', 'xtigervnc', 'xtightvnc', 'xvnc4', 'x0vncserver', 'x0tigervncserver', 'vncsession', 'w0vncserver'],
    win32: ['winvnc.exe', 'winvnc4.exe', 'tvnserver.exe'],
    linuxPaths: ['/usr/bin/Xvnc', '/usr/bin/Xtigervnc', '/usr/bin/x0vncserver'],
    ports: [5900, 5901],
  },
  { id: 'vino', name: 'Vino (GNOME VNC server)', category: 'vnc', linux: ['vino-server'], linuxPaths: ['/usr/lib/vino/vino-server'], ports: [5900] },
  {
    id: 'gnome-remote-desktop',
    name: 'GNOME Remote Desktop',
    category: 'rdp',
    linux: ['gnome-remote-desktop-daemon'],
    linuxPaths: ['/usr/libexec/gnome-remote-desktop-daemon', '/usr/lib/gnome-remote-desktop/gnome-remote-desktop-daemon'],
    ports: [3389, 5900],
  },
  { id: 'krfb', name: 'KRfb (KDE desktop sharing)', category: 'vnc', linux: ['krfb', 'krfb-virtualmonitor'], linuxPaths: ['/usr/bin/krfb'], ports: [5900] },
  { id: 'wayvnc', name: 'wayvnc', category: 'vnc', linux: ['wayvnc'], linuxPaths: ['/usr/bin/wayvnc'], ports: [5900] },
  { id: 'realvnc', name: 'RealVNC Server', category: 'vnc', linux: ['vncserver-x11', 'vncserver-x11-core', 'vncserverui', 'vncagent'], darwin: ['vncserver', 'vncagent'], win32: ['vncserver.exe', 'vncagent.exe'], linuxPaths: ['/usr/bin/vncserver-x11'], darwinPaths: ['/Library/vnc/VNC Server.app'], ports: [5900] },
  { id: 'macos-screen-sharing', name: 'macOS Screen Sharing / Remote Management', category: 'vnc', darwin: ['screensharingd', 'ardagent', 'screensharingagent', 'ssinvitationagent'], ports: [5900, 3283] },
  // --- RDP servers ---------------------------------------------------------------------------
  { id: 'xrdp', name: 'xrdp', category: 'rdp', linux: ['xrdp', 'xrdp-sesman', 'xrdp-chansrv'], linuxPaths: ['/usr/sbin/xrdp'], ports: [3389] },
  { id: 'freerdp-shadow', name: 'FreeRDP shadow server', category: 'rdp', linux: ['freerdp-shadow-cli', 'freerdp-shadow-cli3'], darwin: ['freerdp-shadow-cli'], linuxPaths: ['/usr/bin/freerdp-shadow-cli', '/usr/bin/freerdp-shadow-cli3'], ports: [3389] },
  // rdpclip.exe is started inside every Windows RDP session; it is the process-level tell for one.
  { id: 'windows-remote-desktop', name: 'Windows Remote Desktop session', category: 'rdp', win32: ['rdpclip.exe', 'rdpinput.exe'], ports: [3389] },
  // --- Remote desktop products ---------------------------------------------------------------
  { id: 'anydesk', name: 'AnyDesk', category: 'remote-desktop', linux: ['anydesk'], darwin: ['anydesk'], win32: ['anydesk.exe'], linuxPaths: ['/usr/bin/anydesk', '/usr/libexec/anydesk'], darwinPaths: ['/Applications/AnyDesk.app'], ports: [7070] },
  {
    id: 'teamviewer',
    name: 'TeamViewer',
    category: 'remote-desktop',
    linux: ['teamviewerd', 'teamviewer', 'tv_bin', 'teamviewer_desktop'],
    darwin: ['teamviewer', 'teamviewer_service', 'teamviewer_desktop', 'teamviewerhost'],
    win32: ['teamviewer.exe', 'teamviewer_service.exe', 'teamviewer_desktop.exe', 'tv_w32.exe', 'tv_x64.exe'],
    linuxPaths: ['/opt/teamviewer'],
    darwinPaths: ['/Applications/TeamViewer.app', '/Applications/TeamViewerHost.app'],
    win32Paths: ['%ProgramFiles%\\TeamViewer'],
    ports: [5938],
  },
  { id: 'rustdesk', name: 'RustDesk', category: 'remote-desktop', linux: ['rustdesk'], darwin: ['rustdesk'], win32: ['rustdesk.exe'], linuxPaths: ['/usr/bin/rustdesk', '/usr/share/rustdesk'], darwinPaths: ['/Applications/RustDesk.app'], ports: [21115, 21116, 21117, 21118, 21119] },
  {
    id: 'chrome-remote-desktop',
    name: 'Chrome Remote Desktop',
    category: 'remote-desktop',
    linux: ['chrome-remote-desktop-host', 'remoting_host', 'chrome-remote-desktop', 'remote-assistance-host'],
    darwin: ['remoting_me2me_host', 'chromeremotedesktophost', 'remote_assistance_host'],
    win32: ['remoting_host.exe', 'remote_assistance_host.exe', 'remoting_desktop.exe'],
    linuxPaths: ['/opt/google/chrome-remote-desktop'],
    darwinPaths: ['/Library/PrivilegedHelperTools/ChromeRemoteDesktopHost.app'],
    win32Paths: ['%ProgramFiles(x86)%\\Google\\Chrome Remote Desktop', '%ProgramFiles%\\Google\\Chrome Remote Desktop'],
  },
  {
    id: 'nomachine',
    name: 'NoMachine',
    category: 'remote-desktop',
    linux: ['nxserver.bin', 'nxnode.bin', 'nxd', 'nxserver', 'nxnode'],
    darwin: ['nxserver.bin', 'nxnode.bin', 'nxd'],
    win32: ['nxservice64.exe', 'nxservice32.exe', 'nxserver.exe', 'nxnode.exe', 'nxd.exe'],
    linuxPaths: ['/usr/NX'],
    darwinPaths: ['/Applications/NoMachine.app'],
    win32Paths: ['%ProgramFiles%\\NoMachine'],
    ports: [4000],
  },
  {
    id: 'splashtop',
    name: 'Splashtop',
    category: 'remote-desktop',
    linux: ['srstreamer', 'splashtop-streamer', 'srfeature'],
    darwin: ['splashtop streamer', 'srstreamer', 'splashtopremoteservice'],
    win32: ['srservice.exe', 'srserver.exe', 'srmanager.exe', 'sragent.exe', 'strwinclt.exe', 'srfeature.exe'],
    linuxPaths: ['/opt/splashtop-streamer'],
    darwinPaths: ['/Applications/Splashtop Streamer.app'],
    win32Paths: ['%ProgramFiles(x86)%\\Splashtop\\Splashtop Remote\\Server'],
  },
  { id: 'parsec', name: 'Parsec', category: 'remote-desktop', linux: ['parsecd'], darwin: ['parsecd', 'parsec'], win32: ['parsecd.exe', 'pservice.exe'], linuxPaths: ['/usr/bin/parsecd'], darwinPaths: ['/Applications/Parsec.app'], ports: [8000, 3478] },
  { id: 'screenconnect', name: 'ScreenConnect (ConnectWise Control)', category: 'rmm', linux: ['connectwisecontrol-*', 'screenconnect*'], darwin: ['connectwisecontrol-*', 'screenconnect*'] },
  { id: 'logmein', name: 'LogMeIn', category: 'rmm', darwin: ['logmein', 'logmeingui', 'lmiguiagent'], darwinPaths: ['/Library/Application Support/LogMeIn'] },
  { id: 'gotomypc', name: 'GoToMyPC', category: 'remote-desktop', darwin: ['gotomypc', 'g2mhost'], darwinPaths: ['/Applications/GoToMyPC.app'] },
  { id: 'goto-resolve', name: 'GoTo Resolve', category: 'rmm', win32: ['gotoresolveunattended.exe', 'gotoresolveprocesschecker.exe', 'gotoresolve.exe'], darwin: ['goto resolve unattended', 'gotoresolveunattended'], darwinPaths: ['/Applications/GoTo Resolve Unattended.app'] },
  { id: 'gotoassist', name: 'GoToAssist', category: 'rmm', darwin: ['gotoassist', 'g2ax_customer'] },
  // --- Software KVMs: one keyboard and mouse driving several computers ---------------------------
  {
    id: 'synergy',
    name: 'Synergy / Barrier / Input Leap / Deskflow',
    category: 'kvm-software',
    linux: ['synergys', 'synergyc', 'synergy-core', 'barriers', 'barrierc', 'input-leaps', 'input-leapc', 'deskflow-server', 'deskflow-client', 'deskflow-core'],
    darwin: ['synergys', 'synergyc', 'synergy-core', 'barriers', 'barrierc', 'input-leaps', 'input-leapc', 'deskflow-server', 'deskflow-client', 'deskflow-core'],
    win32: ['synergys.exe', 'synergyc.exe', 'synergy-core.exe', 'barriers.exe', 'barrierc.exe', 'input-leaps.exe', 'input-leapc.exe', 'deskflow-server.exe', 'deskflow-client.exe', 'deskflow-core.exe'],
    ports: [24800],
  },
  { id: 'mouse-without-borders', name: 'Mouse without Borders', category: 'kvm-software', win32: ['mousewithoutborders.exe', 'mousewithoutbordershelper.exe', 'powertoys.mousewithoutborders.exe'], ports: [15100, 15101] },
  { id: 'input-director', name: 'Input Director', category: 'kvm-software', win32: ['inputdirector.exe'] },
  // --- Tunnels and forwarders: expose a port of this computer to a distant peer -------------------
  // A remote-control session through one of these shows a loopback peer; the behaviour scan
  // attributes it through the forwarder. Plain `ssh -R/-L` is not listed (ssh is everywhere); the
  // behaviour scan attributes it all the same.
  { id: 'ngrok', name: 'ngrok', category: 'tunnel', linux: ['ngrok'], darwin: ['ngrok'], win32: ['ngrok.exe'], linuxPaths: ['/usr/local/bin/ngrok', '/usr/bin/ngrok', '/snap/bin/ngrok'], darwinPaths: ['/opt/homebrew/bin/ngrok', '/usr/local/bin/ngrok'] },
  { id: 'cloudflare-tunnel', name: 'Cloudflare Tunnel (cloudflared)', category: 'tunnel', linux: ['cloudflared'], darwin: ['cloudflared'], win32: ['cloudflared.exe'], linuxPaths: ['/usr/bin/cloudflared', '/usr/local/bin/cloudflared'], darwinPaths: ['/opt/homebrew/bin/cloudflared', '/usr/local/bin/cloudflared'] },
  { id: 'tailscale', name: 'Tailscale', category: 'tunnel', linux: ['tailscaled'], darwin: ['tailscaled', 'io.tailscale.ipn.macsys.network-extension', 'io.tailscale.ipn.macos.network-extension'], win32: ['tailscaled.exe', 'tailscale-ipn.exe'], linuxPaths: ['/usr/sbin/tailscaled'], darwinPaths: ['/Applications/Tailscale.app'], ports: [41641] },
  { id: 'zerotier', name: 'ZeroTier', category: 'tunnel', linux: ['zerotier-one'], darwin: ['zerotier-one'], win32: ['zerotier-one_x64.exe', 'zerotier-one_x86.exe'], linuxPaths: ['/usr/sbin/zerotier-one'], darwinPaths: ['/Library/Application Support/ZeroTier/One/zerotier-one'], ports: [9993] },
  { id: 'localxpose', name: 'LocalXpose', category: 'tunnel', linux: ['loclx'], darwin: ['loclx'], win32: ['loclx.exe'] },
  // No install path: socat is a common admin tool, installed is no signal; running it is.
  { id: 'socat', name: 'socat', category: 'tunnel', linux: ['socat'], darwin: ['socat'], win32: ['socat.exe'] },
  { id: 'chisel', name: 'chisel', category: 'tunnel', linux: ['chisel'], darwin: ['chisel'], win32: ['chisel.exe'] },
  { id: 'frp', name: 'frp (fast reverse proxy)', category: 'tunnel', linux: ['frpc', 'frps'], darwin: ['frpc', 'frps'], win32: ['frpc.exe', 'frps.exe'], ports: [7000] },
  { id: 'bore', name: 'bore', category: 'tunnel', linux: ['bore'], darwin: ['bore'], win32: ['bore.exe'], ports: [7835] },
  { id: 'rathole', name: 'rathole', category: 'tunnel', linux: ['rathole'], darwin: ['rathole'], win32: ['rathole.exe'] },
  { id: 'devtunnel', name: 'Microsoft Dev Tunnels', category: 'tunnel', linux: ['devtunnel'], darwin: ['devtunnel'], win32: ['devtunnel.exe'] },
  // --- Mouse jigglers: fake presence --------------------------------------------------------
  {
    id: 'mouse-jiggler',
    name: 'Mouse jiggler',
    category: 'mouse-jiggler',
    win32: ['mousejiggler.exe', 'mouse jiggler.exe', 'mousejiggle.exe', 'move mouse.exe', 'movemouse.exe', 'jiggler.exe', 'caffeine.exe', 'caffeine64.exe'],
    darwin: ['jiggler', 'mouse jiggler', 'move mouse'],
    linux: ['mouse-jiggler', 'mousejiggler', 'jiggler', 'keep-presence'],
  },
];
