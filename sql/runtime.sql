-- tenantctl's runtime schema, installed (and upgraded in place) by `tenantctl apply` in the apply transaction.
-- The registry placeholder (a colon followed by "registry") becomes the quoted registry schema (default "tenant_registry") before it runs.
--
-- Identity is session_user: the authenticated login, which a data-plane user cannot change
-- (SET ROLE changes current_user only; SET SESSION AUTHORIZATION needs a superuser). The lookup functions are
-- SECURITY DEFINER so that they can read the registry's tenant status, which users may not read themselves;
-- they return only the caller's own values, and their search_path is pinned.
--
-- Every row policy calls these functions and they read tenantctl.principals, so a hand change in this schema
-- changes what every login sees. apply records the schema's state (functions, policies, privileges, owners,
-- row security, triggers) right after it runs; plan reports any difference as drift and apply puts the
-- record back (src/plan/runtime.ts).

CREATE SCHEMA IF NOT EXISTS tenantctl;
COMMENT ON SCHEMA tenantctl IS 'managed by tenantctl: runtime (principals, attribute lookup, last apply)';
REVOKE ALL ON SCHEMA tenantctl FROM PUBLIC;
GRANT USAGE ON SCHEMA tenantctl TO PUBLIC;

-- One row per LOGIN role that tenantctl manages. Users carry a tenant slug and typed attributes; apps carry
-- the mapping from attribute to the transaction-local setting their pool sets.
CREATE TABLE IF NOT EXISTS tenantctl.principals (
    role        name PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('user', 'app')),
    tenant      text,
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    context     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(context) = 'object'),
    CHECK (kind = 'user' OR tenant IS NULL)
);
COMMENT ON TABLE tenantctl.principals IS 'managed by tenantctl: one row per data-plane login (users and apps)';
ALTER TABLE tenantctl.principals ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenantctl.principals FORCE ROW LEVEL SECURITY;
REVOKE ALL ON tenantctl.principals FROM PUBLIC;
GRANT SELECT ON tenantctl.principals TO PUBLIC;
DROP POLICY IF EXISTS own_row ON tenantctl.principals;
CREATE POLICY own_row ON tenantctl.principals FOR SELECT TO PUBLIC USING (role = session_user);
-- The owner (whoever runs apply) manages every row.
DROP POLICY IF EXISTS manage ON tenantctl.principals;
CREATE POLICY manage ON tenantctl.principals TO CURRENT_USER USING (true) WITH CHECK (true);

-- What the last apply wrote, per object: the hash of the desired definition and the catalog's own rendering
-- right after it was written. A later plan compares both, so formatting differences between PostgreSQL
-- majors never show as changes, while a hand edit (rendering differs) shows as drift.
CREATE TABLE IF NOT EXISTS tenantctl.applied (
    object      text PRIMARY KEY,
    desired     text NOT NULL,
    rendered    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
-- fingerprint (policies and views): the version (oid:xmin) of the catalog row that holds the node tree
-- PostgreSQL stored, read with the rendering. While the row is unchanged, a plan takes the recorded rendering
-- instead of rendering it again (src/catalog/read.ts).
-- Added after the table: an in-place upgrade of a database applied by an earlier version.
ALTER TABLE tenantctl.applied ADD COLUMN IF NOT EXISTS fingerprint text;
COMMENT ON TABLE tenantctl.applied IS 'managed by tenantctl: state of the last apply, for drift detection';
REVOKE ALL ON tenantctl.applied FROM PUBLIC;

-- The catalog as the last apply left it, when a plan of that moment had nothing to say: no step, no note, no
-- warning. `input` is the sha256 of what else that plan read (the file, tenantctl's code, the options), `env`
-- the names of the environment variables it read passwords from with a salted scrypt of their values, and
-- `catalog` the fingerprint of everything it read from the catalog (src/catalog/fingerprint.ts). A plan whose
-- input, environment and catalog fingerprint are all the same has the same answer, so it says `No changes.`
-- without comparing every object again (src/apply/converged.ts). apply rewrites or deletes the row.
CREATE TABLE IF NOT EXISTS tenantctl.converged (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    input       text NOT NULL,
    schemas     name[] NOT NULL,
    env         jsonb,
    catalog     text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenantctl.converged IS 'managed by tenantctl: fingerprint of the catalog after the last apply that converged';
REVOKE ALL ON tenantctl.converged FROM PUBLIC;

-- The lookups below run once per statement (the compiler wraps every call in a sub-select: an InitPlan), so
-- their cost is a fixed cost of every statement a data-plane login sends (issue #9; bench/fixed-cost.mjs
-- measures it). What keeps it low, measured on PostgreSQL 15:
--   * PL/pgSQL, not LANGUAGE sql: a SECURITY DEFINER function is never inlined, and a non-inlined SQL function
--     parses and plans its body again in every statement (PostgreSQL < 18); PL/pgSQL caches its plans per
--     session.
--   * One query for a user: the principal and its tenant together (principals LEFT JOIN the registry), with
--     index-friendly conditions that the plan cache keeps as one generic plan. Apps need a second query, since
--     their tenant comes from a setting named in their principals row: app_tenant(), one plain PL/pgSQL call
--     (about 0.01 ms) shared by the four lookups.
--   * No nested lookup function: attr('tenant') used to call current_tenant(), a set-returning SECURITY DEFINER
--     function (another search_path switch, a tuplestore, and a query whose OR-ed conditions were re-planned
--     on every call): about 0.07 ms of the 0.11 ms a call cost.
-- `SET search_path` stays (about 3 microseconds per call): it is what makes every unqualified operator and
-- function in the bodies (=, ->, ?, nullif, ::uuid ...) resolve in pg_catalog whatever the caller's search_path.
--
-- Invariant the compiler relies on (src/compile/guard.ts): attr('tenant') and attr('tenant_id') are NULL
-- whenever visible() is false, so a filter with a top-level `column = {user.tenant}` needs no visible() guard.

-- An app's tenant: the registered tenant, not archived, that the slug and the id the app set in this
-- transaction both name (the settings its principals row's context maps `tenant` and `tenant_id` to; either
-- may be unset, not both). All NULL otherwise. A value that does not cast to uuid is an error, never a wider
-- result. Only the lookups below call it, for apps (as their definer: EXECUTE is not granted to PUBLIC);
-- users, the common case, get their tenant in the lookup's own query with no second call.
CREATE OR REPLACE FUNCTION tenantctl.app_tenant(context jsonb, OUT id uuid, OUT slug text, OUT status text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    by_slug text;
    by_id uuid;
BEGIN
    IF context ? 'tenant' THEN
        by_slug := nullif(current_setting(context -> 'tenant' ->> 'setting', true), '');
    END IF;
    IF context ? 'tenant_id' THEN
        by_id := nullif(current_setting(context -> 'tenant_id' ->> 'setting', true), '')::uuid;
    END IF;
    IF by_slug IS NULL AND by_id IS NULL THEN
        RETURN;
    END IF;
    -- One index-friendly query whichever is set; slug and id must name the same tenant when both are.
    SELECT t.id, t.slug, t.status::text INTO id, slug, status
      FROM :registry.tenants t
     WHERE t.slug = coalesce(by_slug, (SELECT x.slug FROM :registry.tenants x WHERE x.id = by_id))
       AND (by_id IS NULL OR t.id = by_id)
       AND t.status <> 'archived';
END;
$$;
REVOKE ALL ON FUNCTION tenantctl.app_tenant(jsonb) FROM PUBLIC;

-- The caller's tenant row, or nothing when the caller is unknown, the tenant is unknown or archived, or an
-- app has not set its tenant setting in this transaction. Apps name their tenant by slug or by id (or both,
-- which must agree); a value that does not cast to uuid is an error, never a wider result.
CREATE OR REPLACE FUNCTION tenantctl.current_tenant(OUT id uuid, OUT slug text, OUT status text)
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
    ctx jsonb;
BEGIN
    SELECT p.kind, p.context, t.id, t.slug, t.status::text INTO kind, ctx, id, slug, status
      FROM tenantctl.principals p
      LEFT JOIN :registry.tenants t ON t.slug = p.tenant AND t.status <> 'archived'
     WHERE p.role = session_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF kind = 'app' THEN
        SELECT a.id, a.slug, a.status INTO id, slug, status FROM tenantctl.app_tenant(ctx) a;
    END IF;
    IF id IS NOT NULL THEN
        RETURN NEXT;
    END IF;
END;
$$;

-- {user.X}: the caller's attribute X as text (templates cast it to the declared type). NULL when unknown.
CREATE OR REPLACE FUNCTION tenantctl.attr(attribute text)
    RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p tenantctl.principals;
    v jsonb;
    kind text;
    ctx jsonb;
    t_id uuid;
    t_slug text;
BEGIN
    IF attribute = 'tenant' OR attribute = 'tenant_id' THEN
        -- Same answer as current_tenant(), without calling it.
        SELECT pr.kind, pr.context, t.id, t.slug INTO kind, ctx, t_id, t_slug
          FROM tenantctl.principals pr
          LEFT JOIN :registry.tenants t ON t.slug = pr.tenant AND t.status <> 'archived'
         WHERE pr.role = session_user;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF kind = 'app' THEN
            SELECT a.id, a.slug INTO t_id, t_slug FROM tenantctl.app_tenant(ctx) a;
        END IF;
        IF attribute = 'tenant' THEN
            RETURN t_slug;
        END IF;
        RETURN t_id::text;
    END IF;
    SELECT * INTO p FROM tenantctl.principals WHERE role = session_user;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF attribute = 'name' THEN
        RETURN p.role::text;
    ELSIF p.kind = 'app' THEN
        IF NOT p.context ? attribute THEN
            RETURN NULL;
        END IF;
        RETURN nullif(current_setting(p.context -> attribute ->> 'setting', true), '');
    END IF;
    v := p.attributes -> attribute;
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(v) = 'array' THEN
        -- A list reaches SQL as a text[] literal (templates cast it); an empty list is '{}', not NULL.
        RETURN (SELECT coalesce(array_agg(e ORDER BY n), '{}'::text[])::text FROM jsonb_array_elements_text(v) WITH ORDINALITY AS x(e, n));
    END IF;
    RETURN v #>> '{}';
END;
$$;

-- Whether the caller may see rows at all: a known principal whose tenant (if it names one) is not archived.
CREATE OR REPLACE FUNCTION tenantctl.visible()
    RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
    tenant text;
    ctx jsonb;
    t_id uuid;
BEGIN
    SELECT p.kind, p.tenant, p.context, t.id INTO kind, tenant, ctx, t_id
      FROM tenantctl.principals p
      LEFT JOIN :registry.tenants t ON t.slug = p.tenant AND t.status <> 'archived'
     WHERE p.role = session_user;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF kind = 'user' THEN
        RETURN tenant IS NULL OR t_id IS NOT NULL;
    END IF;
    RETURN (SELECT a.id FROM tenantctl.app_tenant(ctx) a) IS NOT NULL;
END;
$$;

-- {user.tenant} or {user.tenant_id} in a write check (INSERT/UPDATE WITH CHECK, DELETE USING): attr()'s answer,
-- but raises when the caller's tenant is frozen (frozen tenants are read-only). The compiler uses it where a
-- write predicate has a top-level `column = {user.tenant}`: that conjunct is evaluated for every row a write
-- touches, so it makes the frozen check and the tenant lookup one call instead of two (issue #9).
CREATE OR REPLACE FUNCTION tenantctl.writable_attr(attribute text)
    RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
    ctx jsonb;
    t_id uuid;
    t_slug text;
    t_status text;
BEGIN
    IF attribute IS DISTINCT FROM 'tenant' AND attribute IS DISTINCT FROM 'tenant_id' THEN
        RAISE EXCEPTION 'tenantctl.writable_attr: attribute must be tenant or tenant_id, got %', attribute;
    END IF;
    SELECT p.kind, p.context, t.id, t.slug, t.status::text INTO kind, ctx, t_id, t_slug, t_status
      FROM tenantctl.principals p
      LEFT JOIN :registry.tenants t ON t.slug = p.tenant AND t.status <> 'archived'
     WHERE p.role = session_user;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF kind = 'app' THEN
        SELECT a.id, a.slug, a.status INTO t_id, t_slug, t_status FROM tenantctl.app_tenant(ctx) a;
    END IF;
    IF t_status = 'frozen' THEN
        RAISE EXCEPTION 'tenant "%" is frozen: writes are not allowed', t_slug
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'tenantctl tenant unfreeze ' || t_slug;
    END IF;
    IF attribute = 'tenant' THEN
        RETURN t_slug;
    END IF;
    RETURN t_id::text;
END;
$$;

-- Raises unless the caller's tenant may be written: frozen tenants are read-only. In write checks whose filter
-- has no top-level tenant equality (those use writable_attr() instead); one nested call, the rarer case.
CREATE OR REPLACE FUNCTION tenantctl.writable()
    RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM tenantctl.writable_attr('tenant');
    RETURN true;
END;
$$;

-- EXECUTE on these functions stays granted to PUBLIC (PostgreSQL's default): each returns only the
-- caller's own values, and every data-plane role needs them inside the row-security policies.
