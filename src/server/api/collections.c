/*
 * collections.c: the OData description (server/odata/odata.h) of every
 * collection riskgated answers from memory through api_send_collection: which
 * properties $filter, $orderby and $select may name, with their types, and
 * which navigation properties $expand may name. The policy, connector and
 * directory collections are derived from the schema tables (policy/schema.h)
 * plus the properties the server owns, so a property added to a schema is
 * filterable at once.
 */
#include <pthread.h>
#include <string.h>

#include "server/api/api.h"
#include "server/policy/schema.h"

#define MAX_PROPS 256

struct dyn_coll {
    struct odata_prop props[MAX_PROPS];
    struct odata_collection coll;
};

enum { DYN_ALL_POLICIES = SCHEMA_KIND_COUNT, DYN_DIRECTORY_OBJECTS, DYN_COUNT };

static struct dyn_coll dyn[DYN_COUNT];
static pthread_once_t dyn_once = PTHREAD_ONCE_INIT;

static enum odata_type otype(enum schema_type t)
{
    switch (t) {
    case SCHEMA_T_BOOL:
        return ODATA_T_BOOL;
    case SCHEMA_T_INT32:
        return ODATA_T_NUMBER;
    case SCHEMA_T_DATETIME:
        return ODATA_T_DATETIME;
    case SCHEMA_T_STRING_LIST:
    case SCHEMA_T_ENUM_LIST:
        return ODATA_T_STRINGS;
    case SCHEMA_T_KV_LIST:
        return ODATA_T_OBJECTS;
    default:
        return ODATA_T_STRING;
    }
}

/* Adds a property unless the collection has it already (the tables are built once, under dyn_once). */
static void add(struct dyn_coll *d, const char *name, enum odata_type t)
{
    for (size_t i = 0; i < d->coll.nprops; i++) {
        if (!strcmp(d->props[i].name, name))
            return;
    }
    if (d->coll.nprops < MAX_PROPS)
        d->props[d->coll.nprops++] = (struct odata_prop){name, t, 0};
}

static void add_kind(struct dyn_coll *d, enum schema_kind k)
{
    size_t n;
    const struct schema_prop *p = schema_props(k, &n);
    for (size_t i = 0; i < n; i++)
        add(d, p[i].name, otype(p[i].type));
}

/* every policy kind here has Graph's deploymentSummary (managedAppPolicyDeploymentSummary) */
static const char *const policy_nav[] = {"assignments", "apps", "deploymentSummary"};

static void build(void)
{
    for (int i = 0; i < DYN_COUNT; i++) {
        dyn[i].coll = (struct odata_collection){.props = dyn[i].props, .top_default = 1000, .top_max = 1000};
        add(&dyn[i], "id", ODATA_T_STRING);
    }
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++)
        add_kind(&dyn[k], (enum schema_kind)k);
    add_kind(&dyn[DYN_ALL_POLICIES], SCHEMA_ANDROID_PROTECTION);
    add_kind(&dyn[DYN_ALL_POLICIES], SCHEMA_IOS_PROTECTION);
    add_kind(&dyn[DYN_ALL_POLICIES], SCHEMA_APP_CONFIGURATION);
    add_kind(&dyn[DYN_DIRECTORY_OBJECTS], SCHEMA_USER);
    add_kind(&dyn[DYN_DIRECTORY_OBJECTS], SCHEMA_GROUP);
    static const int policy_like[] = {SCHEMA_ANDROID_PROTECTION, SCHEMA_IOS_PROTECTION, SCHEMA_APP_CONFIGURATION,
                                      DYN_ALL_POLICIES};
    for (size_t i = 0; i < sizeof policy_like / sizeof policy_like[0]; i++) {
        struct dyn_coll *d = &dyn[policy_like[i]];
        add(d, "createdDateTime", ODATA_T_DATETIME);
        add(d, "lastModifiedDateTime", ODATA_T_DATETIME);
        add(d, "version", ODATA_T_STRING);
        add(d, "isAssigned", ODATA_T_BOOL);
        add(d, "deployedAppCount", ODATA_T_NUMBER);
        add(d, "assignments", ODATA_T_OBJECTS);
        add(d, "apps", ODATA_T_OBJECTS);
        d->coll.expand = policy_nav;
        d->coll.nexpand = sizeof policy_nav / sizeof policy_nav[0];
    }
    add(&dyn[SCHEMA_CONNECTOR], "lastHeartbeatDateTime", ODATA_T_DATETIME);
    add(&dyn[SCHEMA_CONNECTOR], "partnerState", ODATA_T_STRING);
    add(&dyn[SCHEMA_USER], "createdDateTime", ODATA_T_DATETIME);
    add(&dyn[SCHEMA_GROUP], "createdDateTime", ODATA_T_DATETIME);
    add(&dyn[DYN_DIRECTORY_OBJECTS], "createdDateTime", ODATA_T_DATETIME);
}

static const struct odata_collection *dyn_get(int i)
{
    pthread_once(&dyn_once, build);
    return &dyn[i].coll;
}

const struct odata_collection *api_coll_schema(int kind)
{
    return dyn_get(kind >= 0 && kind < SCHEMA_KIND_COUNT ? kind : DYN_ALL_POLICIES);
}

const struct odata_collection *api_coll_directory_objects(void)
{
    return dyn_get(DYN_DIRECTORY_OBJECTS);
}

#define COLL(props) {props, sizeof props / sizeof props[0], NULL, 0, NULL, 0, false, 1000, 1000}

static const struct odata_prop registration_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"createdDateTime", ODATA_T_DATETIME, 0},
    {"lastSyncDateTime", ODATA_T_DATETIME, 0},
    {"applicationVersion", ODATA_T_STRING, 0},
    {"managementSdkVersion", ODATA_T_STRING, 0},
    {"platformVersion", ODATA_T_STRING, 0},
    {"deviceType", ODATA_T_STRING, 0},
    {"deviceTag", ODATA_T_STRING, 0},
    {"deviceName", ODATA_T_STRING, 0},
    {"managedDeviceId", ODATA_T_STRING, 0},
    {"azureADDeviceId", ODATA_T_STRING, 0},
    {"deviceModel", ODATA_T_STRING, 0},
    {"deviceManufacturer", ODATA_T_STRING, 0},
    {"flaggedReasons", ODATA_T_STRINGS, 0},
    {"userId", ODATA_T_STRING, 0},
    {"appIdentifier", ODATA_T_OBJECT, 0},
    {"version", ODATA_T_STRING, 0},
};
static const char *const registration_nav[] = {"appliedPolicies", "intendedPolicies", "operations"};
static const struct odata_collection registrations = {
    registration_props, sizeof registration_props / sizeof registration_props[0], registration_nav, 3, NULL, 0, false,
    1000, 1000};

static const struct odata_prop operation_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"displayName", ODATA_T_STRING, 0},
    {"state", ODATA_T_STRING, 0},
    {"lastModifiedDateTime", ODATA_T_DATETIME, 0},
    {"version", ODATA_T_STRING, 0},
};
static const struct odata_collection operations = COLL(operation_props);

static const struct odata_prop status_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"displayName", ODATA_T_STRING, 0},
    {"version", ODATA_T_STRING, 0},
};
static const struct odata_collection app_statuses = COLL(status_props);

const struct odata_collection *api_coll_app_statuses(void)
{
    return &app_statuses;
}

const struct odata_collection *api_coll_operations(void)
{
    return &operations;
}

static const struct odata_prop wipe_props[] = {
    {"id", ODATA_T_STRING, 0},          {"registrationId", ODATA_T_STRING, 0},
    {"userId", ODATA_T_STRING, 0},      {"appId", ODATA_T_STRING, 0},
    {"deviceId", ODATA_T_STRING, 0},    {"reason", ODATA_T_STRING, 0},
    {"status", ODATA_T_STRING, 0},      {"createdDateTime", ODATA_T_DATETIME, 0},
    {"completedDateTime", ODATA_T_DATETIME, 0},
};
static const struct odata_collection wipes = COLL(wipe_props);

static const struct odata_prop tenant_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"name", ODATA_T_STRING, 0},
    {"createdDateTime", ODATA_T_DATETIME, 0},
};
static const struct odata_collection tenants = COLL(tenant_props);

static const struct odata_prop key_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"name", ODATA_T_STRING, 0},
    {"role", ODATA_T_STRING, 0},
    {"createdDateTime", ODATA_T_DATETIME, 0},
};
static const struct odata_collection keys = COLL(key_props);

static const struct odata_prop assignment_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"target", ODATA_T_OBJECT, 0},
    {"source", ODATA_T_STRING, 0},
    {"sourceId", ODATA_T_STRING, 0},
};
static const struct odata_collection assignments = COLL(assignment_props);

static const struct odata_prop app_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"mobileAppIdentifier", ODATA_T_OBJECT, 0},
    {"version", ODATA_T_STRING, 0},
};
static const struct odata_collection apps = COLL(app_props);

const struct odata_collection *api_coll_registrations(void)
{
    return &registrations;
}

const struct odata_collection *api_coll_wipes(void)
{
    return &wipes;
}

/* Intune's auditEvent (audit.c writes them) */
static const struct odata_prop audit_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"displayName", ODATA_T_STRING, 0},
    {"componentName", ODATA_T_STRING, 0},
    {"activity", ODATA_T_STRING, 0},
    {"activityDateTime", ODATA_T_DATETIME, 0},
    {"activityType", ODATA_T_STRING, 0},
    {"activityOperationType", ODATA_T_STRING, 0},
    {"activityResult", ODATA_T_STRING, 0},
    {"correlationId", ODATA_T_STRING, 0},
    {"category", ODATA_T_STRING, 0},
    {"actor", ODATA_T_OBJECT, 0},
    {"resources", ODATA_T_ANY, 0},
};
static const struct odata_collection audit_events = COLL(audit_props);

const struct odata_collection *api_coll_audit_events(void)
{
    return &audit_events;
}

const struct odata_collection *api_coll_tenants(void)
{
    return &tenants;
}

const struct odata_collection *api_coll_keys(void)
{
    return &keys;
}

const struct odata_collection *api_coll_assignments(void)
{
    return &assignments;
}

const struct odata_collection *api_coll_apps(void)
{
    return &apps;
}
