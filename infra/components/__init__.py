"""One construct per capability: tables, buckets, functions, connections, api, events, monitoring."""
