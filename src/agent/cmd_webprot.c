/*
 * cmd_webprot.c: web protection's options of `riskgate-agent run` (the DNS
 * filter and the block page; see cmd.h and docs/agent.md "Web protection").
 */
#include <stdio.h>
#include <string.h>

#include "agent/cmd.h"

int cmd_webprot_option(struct cmd_webprot_opts *o, int code, const char *arg)
{
    switch (code) {
    case 1100:
        o->listen = arg;
        return 0;
    case 1101:
        if (o->nupstreams == (int)(sizeof o->upstreams / sizeof o->upstreams[0])) {
            fprintf(stderr, "riskgate-agent: at most 4 --dns-upstream\n");
            return 1;
        }
        o->upstreams[o->nupstreams++] = arg;
        return 0;
    case 1102:
        o->block_page = arg;
        return 0;
    case 1103:
        if (strcmp(arg, "sinkhole") && strcmp(arg, "nxdomain")) {
            fprintf(stderr, "riskgate-agent: --dns-block-mode is sinkhole or nxdomain\n");
            return 1;
        }
        o->nxdomain = !strcmp(arg, "nxdomain");
        return 0;
    default:
        return 1;
    }
}

int cmd_webprot_apply(struct rg_agent *ag, const struct cmd_webprot_opts *o)
{
    if (o->listen && !strcmp(o->listen, "off"))
        return 0; /* no DNS filter: web protection checks URLs on request only */
    struct rg_agent_dns d = {
        .listen = o->listen,
        .upstreams = o->upstreams,
        .nupstreams = o->nupstreams,
        .block_page = o->block_page,
        .nxdomain = o->nxdomain,
    };
    return rg_agent_set_dns(ag, &d);
}
