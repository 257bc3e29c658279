package app

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// DefaultMaxEventClients bounds the event streams a server keeps open at
// once: enough for a team's tabs, not for a flood.
const DefaultMaxEventClients = 64

// setSecurityHeaders is sent with every response: no page of the app may be
// framed by another site (clickjacking), no type sniffing, and the token in
// a URL never leaves in a Referer.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// loopbackNames are the host names a tokenless server answers to.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// loopbackHost reports whether host, a request's Host header, names this
// loopback server: localhost, 127.0.0.1, [::1] or the bound address, with
// the bound port (of bound, host:port; any port when bound is ""). A page
// served from another name that resolves to 127.0.0.1 — DNS rebinding —
// sends its own name and is refused.
func loopbackHost(host, bound string) bool {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		// No port: the default one of http.
		name, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	name = strings.ToLower(name)
	boundName, boundPort, err := net.SplitHostPort(bound)
	if err == nil && port != boundPort {
		return false
	}
	for _, n := range loopbackNames {
		if name == n {
			return true
		}
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() && ip.Equal(net.ParseIP(boundName)) {
		return true
	}
	return false
}

// URLHost is the host:port of a URL that reaches a server listening on
// addr from this machine: a wildcard address (0.0.0.0, [::]) is not one a
// browser can open, so it becomes 127.0.0.1 (Go listens on both IPv4 and
// IPv6 for a wildcard).
func URLHost(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}
