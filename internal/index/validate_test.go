package index

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRefuses(t *testing.T) {
	cases := []struct {
		name, stmt, want string
		d                Dialect
	}{
		{"insert", "INSERT INTO mcmcp_resource VALUES (1)", "starts with INSERT", SQLite},
		{"update", "update k8s_resource set name = 'x'", "starts with UPDATE", SQLite},
		{"delete", "DELETE FROM k8s_history", "starts with DELETE", Postgres},
		{"drop", "drop table k8s_resource", "starts with DROP", SQLite},
		{"attach", "ATTACH DATABASE '/tmp/x.db' AS x", "starts with ATTACH", SQLite},
		{"pragma", "PRAGMA writable_schema = 1", "starts with PRAGMA", SQLite},
		{"two statements", "select 1; delete from k8s_resource", "more than one statement", SQLite},
		{"two selects", "select 1; select 2", "more than one statement", Postgres},
		{"comment hides nothing, semicolon after", "select 1 /* x */ ; select 2", "more than one statement", SQLite},
		{"line comment then statement", "select 1 -- hi\n; drop table x", "more than one statement", SQLite},
		{"unclosed comment", "select 1 /* ; drop table x", "not closed", SQLite},
		{"pg nested comment hides a statement", "select 1 /* /* */ ; delete from x */", "", Postgres},
		{"sqlite non-nested comment", "select 1 /* /* */ ; delete from x */", "more than one statement", SQLite},
		{"load_extension", "select load_extension('/tmp/evil.so')", "load_extension is not allowed", SQLite},
		{"load_extension quoted", `select "load_extension"('/tmp/evil.so')`, "load_extension is not allowed", SQLite},
		{"readfile", "select readfile('/etc/passwd')", "readfile is not allowed", SQLite},
		{"data-modifying with", "with x as (delete from k8s_resource returning *) select * from x", "DELETE is not allowed", Postgres},
		{"select into", "select * into evil from k8s_resource", "INTO is not allowed", Postgres},
		{"base table", "select * from mcmcp_resource", "store's own table", SQLite},
		{"base table quoted", `select * from "mcmcp_resource"`, "store's own table", SQLite},
		{"base table bracketed", `select * from [MCMCP_RESOURCE]`, "store's own table", SQLite},
		{"base table as string", `select * from 'mcmcp_resource'`, "names the store's tables", SQLite},
		{"schema qualified", "select * from main.k8s_resource", "main is not allowed", SQLite},
		{"sqlite catalog", "select sql from sqlite_master", "sqlite_master is not allowed", SQLite},
		{"pg catalog", "select * from pg_stat_activity", "pg_stat_activity is not allowed", Postgres},
		{"set_config", "select set_config('role', 'postgres', false)", "set_config is not allowed", Postgres},
		{"query_to_xml", "select query_to_xml('select * from k8s_resource', true, true, '')", "query_to_xml is not allowed", Postgres},
		{"dollar quote", "select $$ ' $$ ; delete from x ; '", "dollar-quoted", Postgres},
		{"escape string", `select E'\' ' ; delete from x; '`, "escape strings", Postgres},
		{"parameter", "select * from k8s_resource where name = ?", "parameters", SQLite},
		{"named parameter", "select * from k8s_resource where name = :n", "parameters", SQLite},
		{"empty", "  ;  ", "empty", SQLite},
		{"values", "values (1)", "starts with VALUES", SQLite},
		{"for update", "select * from k8s_resource for update", "UPDATE is not allowed", Postgres},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(c.stmt, c.d)
			if c.want == "" {
				// What the engine would see as one commented statement is accepted only if the checks
				// saw nothing else; either answer is safe, but it must not panic.
				return
			}
			var se *StatementError
			if !errors.As(err, &se) {
				t.Fatalf("Check(%q) = %v, want a refusal", c.stmt, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check(%q) = %q, want it to say %q", c.stmt, err, c.want)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	cases := []struct {
		stmt string
		d    Dialect
		with bool
	}{
		{"select cluster, namespace, name, payload->>'$.status.phase' from k8s_resource where kind = 'Pod'", SQLite, false},
		{"SELECT count(*) FROM k8s_history;", SQLite, false},
		{"with p as (select * from k8s_resource where kind = 'Pod') select count(*) from p", SQLite, true},
		{"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 3) SELECT x FROM n", SQLite, true},
		{"select payload->'status'->>'phase', payload #>> '{status,phase}' from k8s_resource where labels @> '{\"app\":\"web\"}'::jsonb", Postgres, false},
		{"select name from k8s_resource where name like 'web-%' -- trailing comment", SQLite, false},
		{"select 'it''s' as s, \"name\" from k8s_resource", SQLite, false},
		{"select replace(name, '-', '_') from k8s_resource", Postgres, false},
	}
	for _, c := range cases {
		got, err := Check(c.stmt, c.d)
		if err != nil {
			t.Errorf("Check(%q) refused: %v", c.stmt, err)
			continue
		}
		if got.With != c.with {
			t.Errorf("Check(%q).With = %v", c.stmt, got.With)
		}
	}
}

func TestWrap(t *testing.T) {
	c, err := Check("  WITH RECURSIVE n(x) AS (SELECT 1) SELECT x FROM n; ", SQLite)
	if err != nil {
		t.Fatal(err)
	}
	got := wrap(c, SQLite, true, 2)
	if !strings.HasPrefix(got, "WITH RECURSIVE k8s_resource AS NOT MATERIALIZED (") || !strings.HasSuffix(got, ", n(x) AS (SELECT 1) SELECT x FROM n") {
		t.Errorf("wrap = %q", got)
	}
	c, _ = Check("select 1", Postgres)
	if got := wrap(c, Postgres, true, 1); !strings.Contains(got, "cluster = ANY($1::text[])") || !strings.HasSuffix(got, ") select 1") {
		t.Errorf("wrap = %q", got)
	}
}
