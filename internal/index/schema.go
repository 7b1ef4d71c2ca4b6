package index

import (
	"strconv"
	"strings"
)

// The store's tables are named mcmcp_*; callers never name them (Check refuses it). They see three
// views, defined per call in front of their statement and restricted to the clusters they may read:
//
//	k8s_resource  one row per object the index holds
//	k8s_history   one row per change the index saw (or, for objects it found, read from their times)
//	k8s_cluster   one row per cluster: how fresh its data is, or why it is not indexed
//
// Times are UTC. In SQLite they are text 'YYYY-MM-DD HH:MM:SS.SSS' (compare with
// datetime('now','-1 hour')); in PostgreSQL timestamptz (compare with now() - interval '1 hour').
// labels and payload are JSON text in SQLite (payload->>'$.status.phase') and jsonb in PostgreSQL
// (payload->'status'->>'phase', payload #>> '{status,phase}').

// Schema documents the views for the tool description and the README.
const Schema = `k8s_resource(cluster, api_group, version, kind, resource, namespace, name, uid, labels, created, updated, payload): ` +
	`one row per object; cluster is the ManagedCluster name or hub; namespace is '' for cluster-scoped objects; ` +
	`labels is a JSON object; created is metadata.creationTimestamp; updated is when the index last saw the object change; ` +
	`payload is the object as JSON without managedFields (Secret values replaced by their byte counts). ` +
	`k8s_history(cluster, api_group, kind, namespace, name, uid, at, change, field, old, new): one row per change: ` +
	`change is created, deleted, updated (field: metadata.generation, spec.replicas or image), status (field: status.phase, ` +
	`status.readyReplicas, status.containerStatuses[NAME] or status.initContainerStatuses[NAME], old and new the state) or ` +
	`condition (field: the condition type, old and new its status with the reason); Events have no history. ` +
	`k8s_cluster(cluster, state, objects, synced, error): per cluster, live (watching), archive, syncing, retrying, or no-credentials; ` +
	`synced is when its data was last known complete.`

// resourceColumns are the columns of k8s_resource, in order.
var resourceColumns = []string{"cluster", "api_group", "version", "kind", "resource", "namespace", "name", "uid", "labels", "created", "updated", "payload"}

var historyColumns = []string{"cluster", "api_group", "kind", "namespace", "name", "uid", "at", "change", "field", "old", "new"}

var clusterColumns = []string{"cluster", "state", "objects", "synced", "error"}

func ddl(d Dialect) []string {
	text, js, ts, serial := "TEXT", "TEXT", "TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == Postgres {
		js, ts, serial = "JSONB", "TIMESTAMPTZ", "BIGSERIAL PRIMARY KEY"
	}
	r := strings.NewReplacer("$TEXT", text, "$JSON", js, "$TS", ts, "$SERIAL", serial)
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS mcmcp_resource (
			cluster $TEXT NOT NULL, api_group $TEXT NOT NULL, version $TEXT NOT NULL, kind $TEXT NOT NULL,
			resource $TEXT NOT NULL, namespace $TEXT NOT NULL, name $TEXT NOT NULL, uid $TEXT NOT NULL,
			labels $JSON NOT NULL, created $TS, updated $TS NOT NULL, payload $JSON NOT NULL,
			summary $TEXT NOT NULL, rv $TEXT NOT NULL, epoch BIGINT NOT NULL,
			PRIMARY KEY (cluster, uid))`,
		`CREATE INDEX IF NOT EXISTS mcmcp_resource_kind ON mcmcp_resource (kind, cluster, namespace, name)`,
		`CREATE INDEX IF NOT EXISTS mcmcp_resource_sweep ON mcmcp_resource (cluster, resource, epoch)`,
		`CREATE TABLE IF NOT EXISTS mcmcp_history (
			id $SERIAL, cluster $TEXT NOT NULL, api_group $TEXT NOT NULL, kind $TEXT NOT NULL,
			namespace $TEXT NOT NULL, name $TEXT NOT NULL, uid $TEXT NOT NULL, at $TS NOT NULL,
			change $TEXT NOT NULL, field $TEXT, old $TEXT, new $TEXT)`,
		`CREATE INDEX IF NOT EXISTS mcmcp_history_at ON mcmcp_history (at)`,
		`CREATE INDEX IF NOT EXISTS mcmcp_history_object ON mcmcp_history (cluster, kind, namespace, name, at)`,
		`CREATE TABLE IF NOT EXISTS mcmcp_cluster (
			cluster $TEXT PRIMARY KEY, state $TEXT NOT NULL, objects BIGINT NOT NULL DEFAULT 0,
			synced $TS, error $TEXT, seen $TS NOT NULL)`,
	}
	for i := range stmts {
		stmts[i] = r.Replace(stmts[i])
	}
	return stmts
}

// maxInList is how many clusters a restricted scope binds one parameter each for in SQLite (an IN list
// the engine answers from the primary key); a larger scope is one parameter read with instr.
const maxInList = 30000

// scopePrefix is the WITH list that defines the caller's views. A restricted scope of n clusters
// filters on them, bound as parameters: in PostgreSQL one text[] ($1); in SQLite ?1..?n, or, beyond
// maxInList, one ",a,b," string. No table-valued function or table name appears, so that no name a
// caller's WITH defines can change what the views select.
func scopePrefix(d Dialect, restricted bool, n int) string {
	where := ""
	switch {
	case !restricted:
	case d == Postgres:
		where = " WHERE cluster = ANY($1::text[])"
	case n == 0:
		where = " WHERE 0"
	case n <= maxInList:
		var b strings.Builder
		b.WriteString(" WHERE cluster IN (")
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteString(", ")
			}
			b.WriteString("?" + strconv.Itoa(i))
		}
		b.WriteString(")")
		where = b.String()
	default:
		// instr over ",a,b," is exact: cluster names hold no comma.
		where = " WHERE instr(?1, ',' || cluster || ',') > 0"
	}
	view := func(name, table string, cols []string) string {
		return name + " AS NOT MATERIALIZED (SELECT " + strings.Join(cols, ", ") + " FROM " + table + where + ")"
	}
	return view("k8s_resource", "mcmcp_resource", resourceColumns) + ", " +
		view("k8s_history", "mcmcp_history", historyColumns) + ", " +
		view("k8s_cluster", "mcmcp_cluster", clusterColumns)
}

// wrap puts the caller's views in front of a checked statement.
func wrap(c *Checked, d Dialect, restricted bool, n int) string {
	views := scopePrefix(d, restricted, n)
	if !c.With {
		return "WITH " + views + " " + c.Text
	}
	head := "WITH "
	if c.Recursive {
		head = "WITH RECURSIVE "
	}
	return head + views + ", " + strings.TrimLeft(c.Text[c.Body:], " \t\r\n\f")
}
