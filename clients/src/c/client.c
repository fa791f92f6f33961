/* Creating and deleting clients (c_client.h), and memory a client hands out. */
#include "internal.h"
#include "c_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


SRError sf_client_check(void* c_client, const char* where, sf_client** out)
{
    sf_client* c = c_client;
    if (!c || c->obj.kind != SF_KIND_CLIENT)
        return sf_fail(SRParameterError, where, "not a client (NULL or deleted?)");
    *out = c;
    return SRNoError;
}

SRError sf_client_own(sf_client* c, void* p, const char* where)
{
    if (c->n_owned == c->cap_owned) {
        size_t cap = c->cap_owned ? c->cap_owned * 2 : 16;
        void** grown = realloc(c->owned, cap * sizeof *grown);
        if (!grown) { free(p); return sf_fail(SRBadAllocError, where, "out of memory"); }
        c->owned = grown;
        c->cap_owned = cap;
    }
    c->owned[c->n_owned++] = p;
    return SRNoError;
}

static SRError read_settings(sf_client* c, const char* where)
{
    SRError rc;
    const char* conn[] = { "SMARTFLOW_CONNECT_TIMEOUT", "SR_CONN_TIMEOUT" };
    const char* cmd[] = { "SMARTFLOW_COMMAND_TIMEOUT", "SR_CMD_TIMEOUT" };
    const char* run[] = { "SMARTFLOW_RUN_TIMEOUT" };
    c->conn_timeout_ms = sf_env_ms(conn, 2, 5000, where, &rc);
    SF_CHECK(rc);
    c->cmd_timeout_ms = sf_env_ms(cmd, 2, 60000, where, &rc);
    SF_CHECK(rc);
    c->run_timeout_ms = sf_env_ms(run, 1, 60000, where, &rc);
    SF_CHECK(rc);
    c->max_value_bytes = SF_DEFAULT_MAX_VALUE;
    const char* chunk = getenv("SMARTFLOW_CHUNK_BYTES");
    if (chunk && *chunk) {
        char* end = NULL;
        unsigned long long v = strtoull(chunk, &end, 10);
        if (end == chunk || *end || v < 256 || v > SF_DEFAULT_MAX_VALUE)
            return sf_fail(SRParameterError, where,
                           "SMARTFLOW_CHUNK_BYTES=%s must be a byte count from 256 to %zu",
                           chunk, SF_DEFAULT_MAX_VALUE);
        c->max_value_bytes = (size_t)v;
    }
    return SRNoError;
}

static void client_free(sf_client* c)
{
    sf_disconnect(c);
    sf_prefix_free(c);
    for (size_t i = 0; i < c->n_owned; i++) free(c->owned[i]);
    free(c->owned);
    if (c->password) {  /* wipe the secret before the memory goes back */
        volatile char* p = c->password;
        while (*p) *p++ = 0;
        free(c->password);
    }
    free(c->description);
    free(c->log_name);
    free(c->obj.name);
    c->obj.kind = 0;
    free(c);
}

/* A client of the store cfg names (NULL: the default store's variables). */
static SRError create(void* cfg, const char* logger_name, size_t logger_name_length,
                      void** new_client, const char* where)
{
    if (!new_client) return sf_fail(SRParameterError, where, "new_client is NULL");
    *new_client = NULL;
    if (!logger_name && logger_name_length)
        return sf_fail(SRParameterError, where, "logger_name is NULL");
    if (cfg) SF_CHECK(sf_config_validate(cfg, where));
    sf_client* c = calloc(1, sizeof *c);
    if (!c) return sf_fail(SRBadAllocError, where, "out of memory");
    c->obj.kind = SF_KIND_CLIENT;
    c->obj.name = sf_strndup(logger_name ? logger_name : "", logger_name_length);
    if (!c->obj.name) { free(c); return sf_fail(SRBadAllocError, where, "out of memory"); }
    SRError rc = read_settings(c, where);
    if (rc != SRNoError) { client_free(c); return rc; }
    sf_prefix_init(c);
    const char* suffix = cfg ? sf_config_suffix(cfg) : "";
    const char* addresses = cfg ? sf_config_lookup(cfg, "SSDB", 4) : getenv("SSDB");
    const char* db_type = cfg ? sf_config_lookup(cfg, "SR_DB_TYPE", 10) : getenv("SR_DB_TYPE");
    const char* password = cfg ? sf_config_lookup(cfg, "SSDB_PASSWORD", 13) : getenv("SSDB_PASSWORD");
    if (!addresses || !*addresses) {
        rc = sf_fail(SRParameterError, where,
                     "no store address: set SSDB%s%s (smartflow sets it for the entities it launches)",
                     *suffix ? "_" : "", suffix);
        client_free(c);
        return rc;
    }
    if (password && *password) {
        c->password = strdup(password);
        if (!c->password) { client_free(c); return sf_fail(SRBadAllocError, where, "out of memory"); }
    }
    const char* who = (c->obj.name[0]) ? c->obj.name : (c->put_prefix ? c->put_prefix : "");
    c->log_name = strdup(*who ? who : "default");
    if (!c->log_name) { client_free(c); return sf_fail(SRBadAllocError, where, "out of memory"); }
    bool hint = db_type && (strcmp(db_type, "Clustered") == 0 || strcmp(db_type, "clustered") == 0);
    rc = sf_connect_nodes(c, addresses, hint);
    if (rc != SRNoError) { client_free(c); return rc; }
    *new_client = c;
    return SRNoError;
}

SRError SimpleCreateClient(const char* logger_name, const size_t logger_name_length,
                           void** new_client)
{
    return create(NULL, logger_name, logger_name_length, new_client, "SimpleCreateClient");
}

SRError CreateClient(void* config_options, const char* logger_name,
                     const size_t logger_name_length, void** new_client)
{
    return create(config_options, logger_name, logger_name_length, new_client, "CreateClient");
}

SRError SmartRedisCClient(bool cluster, const char* logger_name, const size_t logger_name_length,
                          void** new_client)
{
    (void)cluster;  /* the store is probed, so a wrong hint still connects */
    return create(NULL, logger_name, logger_name_length, new_client, "SmartRedisCClient");
}

SRError DeleteCClient(void** c_client)
{
    sf_client* c = NULL;
    if (!c_client) return sf_fail(SRParameterError, "DeleteCClient", "c_client is NULL");
    if (!*c_client) return SRNoError;  /* as SmartRedis: deleting no client does nothing */
    SF_CHECK(sf_client_check(*c_client, "DeleteCClient", &c));
    client_free(c);
    *c_client = NULL;
    return SRNoError;
}

const char* client_to_string(void* c_client)
{
    sf_client* c = NULL;
    if (sf_client_check(c_client, "client_to_string", &c) != SRNoError) return SRGetLastError();
    sf_buf b = {0};
    sf_buf_printf(&b, "smartflow client '%s': %s with %zu shard%s (", c->log_name,
                  c->cluster ? "cluster" : "single store", c->n_nodes, c->n_nodes == 1 ? "" : "s");
    for (size_t i = 0; i < c->n_nodes; i++) {
        const sf_node* n = &c->nodes[i];
        if (n->unix_path) sf_buf_printf(&b, "%sunix://%s", i ? ", " : "", n->unix_path);
        else sf_buf_printf(&b, "%s%s:%d", i ? ", " : "", n->host, n->port);
    }
    sf_buf_printf(&b, ")");
    free(c->description);
    c->description = b.data;
    return c->description ? c->description : "smartflow client";
}
