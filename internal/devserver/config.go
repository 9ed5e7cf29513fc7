package devserver

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/primitives/timestamp"
	"go.temporal.io/server/schema/sqlite"
)

// clusterName is the single cluster's name, stored with every namespace.
const clusterName = "active"

// stores is where the server keeps executions (main) and visibility
// records (nil: in main too), and how many history shards it splits
// executions into. The
// shard count is fixed when the store is first used and must never change.
type stores struct {
	main, visibility *config.SQL
	shards           int32
}

// serverConfig is the static configuration of a single-host cluster: every
// service in this process on 127.0.0.1, archival off, global namespaces off.
// ports are the frontend gRPC and HTTP ports, then history, matching, worker.
func serverConfig(st stores, ports []int) *config.Config {
	addr := func(p int) string { return net.JoinHostPort(localhost, strconv.Itoa(p)) }
	service := func(grpc, http int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpc, HTTPPort: http, BindOnIP: localhost}}
	}
	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: localhost}
	cfg.Persistence = config.Persistence{
		DefaultStore:     "main",
		VisibilityStore:  "main",
		NumHistoryShards: st.shards,
		DataStores:       map[string]config.DataStore{"main": {SQL: st.main}},
	}
	if st.visibility != nil {
		cfg.Persistence.VisibilityStore = "visibility"
		cfg.Persistence.DataStores["visibility"] = config.DataStore{SQL: st.visibility}
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             addr(ports[0]),
				HTTPAddress:            addr(ports[1]),
			},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = map[string]config.Service{
		"frontend": service(ports[0], ports[1]),
		"history":  service(ports[2], 0),
		"matching": service(ports[3], 0),
		"worker":   service(ports[4], 0),
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The server's own system workers (schedules, batch operations) dial
	// the frontend through this address.
	cfg.PublicClient.HostPort = addr(ports[0])
	return cfg
}

// dynamicConfig tunes the server for one small machine running one worker.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// One partition per task queue: a single worker's polls then meet
		// every task directly instead of waiting on forwarding between
		// partitions.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// Keep more workflows' mutable state in memory than the default
		// so a demo with ~1,000 journeys does not reload them from disk.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
		// The web UI lists workflows often; the default visibility rate
		// limit is sized for shared clusters.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// ForceSearchAttributesCacheRefreshOnRead stays off: on, every
		// workflow start and signal read the search attributes from the
		// store's one connection. Tidings registers none; one added by hand
		// with the Temporal CLI is usable within the cache's minute.
	}
}

// createNamespace registers the namespace directly in the store before the
// server starts, so it is usable as soon as the frontend answers (a
// RegisterNamespace call would only be seen after the namespace cache's
// next refresh). An existing namespace is left as it is. The helper lives in
// Temporal's sqlite schema package but works on any SQL store.
func createNamespace(store *config.SQL, name string, retention time.Duration) error {
	ns, err := sqlite.NewNamespaceConfig(clusterName, name, false, nil)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	ns.Detail.Config.Retention = timestamp.DurationPtr(retention)
	if err := sqlite.CreateNamespaces(store, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

func describeNamespace(name string) *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: name}
}
