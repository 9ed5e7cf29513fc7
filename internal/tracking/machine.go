package tracking

import (
	"net"
	"strings"
	"time"
)

// Why a visit counts as a machine's rather than a person's.
const (
	MachineAppleProxy = "apple_privacy_proxy" // Mail Privacy Protection fetches every image on delivery
	MachineScanner    = "scanner"             // a security gateway or bot announcing itself
	MachinePrefetch   = "prefetch"            // fetched within seconds of delivery, before a person could have
	MachineHead       = "head_request"        // link checkers ask for headers only
	MachineNoAgent    = "no_user_agent"       // browsers and mail clients always send one
)

// PrefetchWindow is how soon after the provider accepted a message a visit
// is taken for a scanner's: gateways (Microsoft Safe Links, Mimecast,
// Proofpoint, Barracuda) fetch every link in the first seconds, people take
// longer to open and read.
const PrefetchWindow = 10 * time.Second

// Visit is one request for a tracked link or pixel.
type Visit struct {
	UserAgent string
	IP        string
	Method    string
	// SinceSent is how long after the message went out the visit came;
	// negative or zero when unknown.
	SinceSent time.Duration
}

// scannerAgents are substrings (lower case) of the user agents of link
// scanners, security gateways and HTTP libraries. Image proxies that fetch
// when a person opens the message (Gmail's GoogleImageProxy, Yahoo's) are
// people's opens and are not listed.
var scannerAgents = []string{
	"bot", "crawler", "spider", "scanner", "python-requests", "python-urllib", "curl/", "wget",
	"go-http-client", "java/", "okhttp", "libwww", "httpclient", "headlesschrome", "phantomjs",
	"barracuda", "mimecast", "proofpoint", "symantec", "messagelabs", "trendmicro", "fortinet", "forcepoint",
	"sophos", "ironport", "safelinks", "microsoft office existence discovery", "ms-office",
}

// appleNet is Apple's own address block, from which Mail Privacy Protection
// fetches.
var appleNet = &net.IPNet{IP: net.IPv4(17, 0, 0, 0), Mask: net.CIDRMask(8, 32)}

// Classify tells whether a visit was likely a machine's, and why; "" is a
// likely human visit.
func Classify(v Visit) string {
	ua := strings.TrimSpace(v.UserAgent)
	l := strings.ToLower(ua)
	switch {
	case v.Method == "HEAD":
		return MachineHead
	case ua == "":
		return MachineNoAgent
	case ua == "Mozilla/5.0":
		// Mail Privacy Protection's proxy sends exactly this and nothing else.
		return MachineAppleProxy
	}
	if ip := net.ParseIP(v.IP); ip != nil && appleNet.Contains(ip) {
		return MachineAppleProxy
	}
	for _, s := range scannerAgents {
		if strings.Contains(l, s) {
			return MachineScanner
		}
	}
	if v.SinceSent > 0 && v.SinceSent < PrefetchWindow {
		return MachinePrefetch
	}
	return ""
}
