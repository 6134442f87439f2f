#!/bin/sh
# entrypoint.sh (docker/nginx/Dockerfile): renders /etc/nginx/templates/*.template into
# /etc/nginx/conf.d/ with envsubst, substituting only the environment variables whose names
# match NGINX_ENVSUBST_FILTER (default: all), then runs nginx in the foreground as PID 1.
set -eu
mkdir -p /etc/nginx/conf.d
vars=$(env | cut -d= -f1 | grep -E "${NGINX_ENVSUBST_FILTER:-.}" | sed 's/^/$/' | tr '\n' ' ' || true)
for t in /etc/nginx/templates/*.template; do
  [ -e "$t" ] || continue
  envsubst "$vars" < "$t" > "/etc/nginx/conf.d/$(basename "$t" .template)"
done
exec nginx -g 'daemon off;'
