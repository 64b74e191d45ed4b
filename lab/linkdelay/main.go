// linkdelay is the lab's latency fault: a host's cable cut in two, with a
// delay line between the ends. It reads every frame from one interface with
// an AF_PACKET socket and sends it out of the other after the delay, both
// ways. The kernel here has no netem qdisc, and nftables cannot hold a packet
// back; a userspace copy between two raw sockets is what delays a link
// without touching the hosts, and it keeps TCP's offloads (PACKET_VNET_HDR
// carries GSO and checksum state across, as QEMU does with a tap).
//
//	linkdelay --host-link gd22v3 --bridge-link gd22l3 --delay-us 100000 --jitter-us 10000 --peers 198.18.22.11,198.18.22.12 --ready FILE
//
// Only IPv4 frames to or from a peer are delayed (no --peers: every IPv4
// frame); ARP and the rest pass at once. The order of frames is kept: a
// frame never leaves before one that came in before it (jitter without
// reordering), so under steady traffic the delays sit toward the top of
// the jitter's range. It runs until SIGTERM or SIGKILL; a link that goes
// down (a power-off) only pauses it.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	ethPAll        = 0x0003
	solPacket      = 263
	packetVnetHdr  = 15
	packetOutgoing = 4
	vnetHdrLen     = 10
	ethHdrLen      = 14
	// What a delay line holds before it drops (netem's default limit is 1000 packets).
	queueLimit = 10000
)

type frame struct {
	data []byte
	due  time.Time
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openLink(name string) (int, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return -1, err
	}
	// Protocol 0 until bound: a socket opened with ETH_P_ALL would see every interface's frames until bind.
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
	if err != nil {
		return -1, err
	}
	// Room for a burst of large TCP segments (the default holds about three).
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 8<<20)
	if err := syscall.SetsockoptInt(fd, solPacket, packetVnetHdr, 1); err != nil {
		return -1, fmt.Errorf("PACKET_VNET_HDR: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifc.Index}); err != nil {
		return -1, err
	}
	return fd, nil
}

// peerOf returns the IPv4 address on the far side of the link: the
// destination of a frame the host sent, the source of one it is sent.
func peerOf(f []byte, fromHost bool) (uint32, bool) {
	eth := f[vnetHdrLen:]
	if len(eth) < ethHdrLen+20 || binary.BigEndian.Uint16(eth[12:14]) != 0x0800 {
		return 0, false
	}
	ip := eth[ethHdrLen:]
	if fromHost {
		return binary.BigEndian.Uint32(ip[16:20]), true
	}
	return binary.BigEndian.Uint32(ip[12:16]), true
}

type line struct {
	in, out  int
	fromHost bool
	delay    time.Duration
	jitter   time.Duration
	peers    map[uint32]bool
	queue    chan frame
	dropped  atomic.Int64
}

func (l *line) delayed(f []byte) bool {
	addr, ok := peerOf(f, l.fromHost)
	if !ok {
		return false
	}
	return len(l.peers) == 0 || l.peers[addr]
}

func (l *line) read() {
	buf := make([]byte, 65536+vnetHdrLen)
	var last time.Time
	for {
		n, from, err := syscall.Recvfrom(l.in, buf, 0)
		if err != nil {
			switch err {
			case syscall.EINTR:
				continue
			case syscall.ENETDOWN:
				// The link is down (the host's power is off): nothing to carry until it comes back.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			// Anything else (the interface is gone: lab down, a crashed lab cleared) ends the line.
			fmt.Fprintln(os.Stderr, "linkdelay: read:", err)
			os.Exit(1)
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == packetOutgoing {
			continue // our own frame, leaving by this interface
		}
		f := append([]byte(nil), buf[:n]...)
		if !l.delayed(f) {
			l.send(f)
			continue
		}
		due := time.Now().Add(l.delay)
		if l.jitter > 0 {
			due = due.Add(time.Duration(rand.Int63n(int64(2*l.jitter))) - l.jitter)
		}
		if due.Before(last) {
			due = last
		}
		last = due
		select {
		case l.queue <- frame{f, due}:
		default:
			l.dropped.Add(1)
		}
	}
}

func (l *line) send(f []byte) {
	// The interface may be down (the host's power is off): a frame that cannot leave is lost, as on a cable.
	_, _ = syscall.Write(l.out, f)
}

func (l *line) write() {
	for f := range l.queue {
		if wait := time.Until(f.due); wait > 0 {
			time.Sleep(wait)
		}
		l.send(f.data)
	}
}

func main() {
	hostLink := flag.String("host-link", "", "the interface whose far end is the host")
	bridgeLink := flag.String("bridge-link", "", "the interface whose far end is in the lab's bridge")
	delayUs := flag.Int("delay-us", 0, "the delay of each direction, in microseconds")
	jitterUs := flag.Int("jitter-us", 0, "each frame's delay varies by up to this much either way, in microseconds")
	peerList := flag.String("peers", "", "comma-separated IPv4 addresses whose traffic with the host is delayed (none: all)")
	ready := flag.String("ready", "", "a file written once both sockets are open")
	flag.Parse()
	if *hostLink == "" || *bridgeLink == "" || *delayUs < 0 || *jitterUs < 0 || *jitterUs > *delayUs {
		fmt.Fprintln(os.Stderr, "linkdelay: --host-link and --bridge-link are required; 0 <= --jitter-us <= --delay-us")
		os.Exit(2)
	}
	peers := map[uint32]bool{}
	for _, p := range strings.Split(*peerList, ",") {
		if p == "" {
			continue
		}
		ip := net.ParseIP(p).To4()
		if ip == nil {
			fmt.Fprintln(os.Stderr, "linkdelay: not an IPv4 address in --peers:", p)
			os.Exit(2)
		}
		peers[binary.BigEndian.Uint32(ip)] = true
	}
	hostFd, err := openLink(*hostLink)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkdelay:", *hostLink+":", err)
		os.Exit(1)
	}
	bridgeFd, err := openLink(*bridgeLink)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkdelay:", *bridgeLink+":", err)
		os.Exit(1)
	}
	d, j := time.Duration(*delayUs)*time.Microsecond, time.Duration(*jitterUs)*time.Microsecond
	lines := []*line{
		{in: hostFd, out: bridgeFd, fromHost: true, delay: d, jitter: j, peers: peers, queue: make(chan frame, queueLimit)},
		{in: bridgeFd, out: hostFd, fromHost: false, delay: d, jitter: j, peers: peers, queue: make(chan frame, queueLimit)},
	}
	for _, l := range lines {
		go l.read()
		go l.write()
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "linkdelay: --ready:", err)
			os.Exit(1)
		}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	fmt.Fprintf(os.Stderr, "linkdelay: stopped; %d frames dropped (queue full)\n", lines[0].dropped.Load()+lines[1].dropped.Load())
}
