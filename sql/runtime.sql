-- tenantctl's runtime schema, installed (and upgraded in place) by `tenantctl apply` in the apply transaction.
-- The registry placeholder (a colon followed by "registry") becomes the quoted registry schema (default "tenant_registry") before it runs.
--
-- Identity is session_user: the authenticated login, which a data-plane user cannot change
-- (SET ROLE changes current_user only; SET SESSION AUTHORIZATION needs a superuser). The lookup functions are
-- SECURITY DEFINER so that they can read the registry's tenant status, which users may not read themselves;
-- they return only the caller's own values, and their search_path is pinned.

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
COMMENT ON TABLE tenantctl.applied IS 'managed by tenantctl: state of the last apply, for drift detection';
REVOKE ALL ON tenantctl.applied FROM PUBLIC;

-- The caller's tenant row, or nothing when the caller is unknown, the tenant is unknown or archived, or an
-- app has not set its tenant setting in this transaction. Apps name their tenant by slug or by id (or both,
-- which must agree); a value that does not cast to uuid is an error, never a wider result.
CREATE OR REPLACE FUNCTION tenantctl.current_tenant(OUT id uuid, OUT slug text, OUT status text)
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p tenantctl.principals;
    by_slug text;
    by_id uuid;
BEGIN
    SELECT * INTO p FROM tenantctl.principals WHERE role = session_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p.kind = 'user' THEN
        by_slug := p.tenant;
    ELSE
        IF p.context ? 'tenant' THEN
            by_slug := nullif(current_setting(p.context -> 'tenant' ->> 'setting', true), '');
        END IF;
        IF p.context ? 'tenant_id' THEN
            by_id := nullif(current_setting(p.context -> 'tenant_id' ->> 'setting', true), '')::uuid;
        END IF;
        IF by_slug IS NULL AND by_id IS NULL THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
        SELECT t.id, t.slug, t.status::text
          FROM :registry.tenants t
         WHERE (by_slug IS NULL OR t.slug = by_slug)
           AND (by_id IS NULL OR t.id = by_id)
           AND (by_slug IS NOT NULL OR by_id IS NOT NULL)
           AND t.status <> 'archived';
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
BEGIN
    SELECT * INTO p FROM tenantctl.principals WHERE role = session_user;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF attribute = 'name' THEN
        RETURN p.role::text;
    ELSIF attribute = 'tenant' THEN
        RETURN (SELECT t.slug FROM tenantctl.current_tenant() t);
    ELSIF attribute = 'tenant_id' THEN
        RETURN (SELECT t.id::text FROM tenantctl.current_tenant() t);
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
    p tenantctl.principals;
BEGIN
    SELECT * INTO p FROM tenantctl.principals WHERE role = session_user;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p.kind = 'user' AND p.tenant IS NULL THEN
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM tenantctl.current_tenant());
END;
$$;

-- Raises unless the caller's tenant may be written: frozen tenants are read-only.
CREATE OR REPLACE FUNCTION tenantctl.writable()
    RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM tenantctl.current_tenant() LOOP
        IF t.status = 'frozen' THEN
            RAISE EXCEPTION 'tenant "%" is frozen: writes are not allowed', t.slug
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'tenantctl tenant unfreeze ' || t.slug;
        END IF;
    END LOOP;
    RETURN true;
END;
$$;

-- EXECUTE on these functions stays granted to PUBLIC (PostgreSQL's default): each returns only the
-- caller's own values, and every data-plane role needs them inside the row-security policies.
