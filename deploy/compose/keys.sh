#!/bin/sh
# Runs as root before the nodes start, on every `docker compose up`, and keeps whatever exists already,
# so the nodes' identities survive a restart:
#  1. the deployment CA, created once in the `ca` volume, which only this service mounts: ca.key never
#     reaches a node;
#  2. each node's signing key in its data volume (keygen keeps an existing key);
#  3. each node's TLS certificate, naming its node id, in <data volume>/tls (node.crt, node.key.pem and a
#     copy of ca.crt), issued once, and again only if the CA is no longer the one that issued it;
#  4. the configs, with the public keys filled in.
set -eu

federation() { dotnet /app/federation.dll "$@"; }

if [ ! -f /ca/ca.crt ]; then
  federation ca init --out /ca --name "Federation compose CA"
fi

# cert SERVICE NODE_ID: the certificate names the node id, which is what peers check; the host names
# (the compose service name, localhost, 127.0.0.1) are there for ordinary TLS clients.
cert() {
  tls="/data/$1/tls"
  if [ -f "$tls/node.key.pem" ] && [ -f "$tls/node.crt" ] && [ -f "$tls/ca.crt" ] &&
     [ "$(cat "$tls/ca.crt")" = "$(cat /ca/ca.crt)" ]; then
    return 0
  fi
  # `cert issue` never overwrites a key, so clear what an older CA issued first.
  rm -f "$tls/node.crt" "$tls/node.key.pem" "$tls/ca.crt"
  federation cert issue --ca-dir /ca --node-id "$2" --out "$tls" --host "$1" --host localhost --host 127.0.0.1
}
cert city 3701
cert county 370113
cert township 370113001
cert village 370113001001

key() { federation keygen --data "/data/$1"; }
city=$(key city)
county=$(key county)
township=$(key township)
village=$(key village)

for node in city county township village; do
  # Base64 never contains '|', so it is a safe sed delimiter.
  sed -e "s|@CITY_KEY@|$city|g" -e "s|@COUNTY_KEY@|$county|g" \
      -e "s|@TOWNSHIP_KEY@|$township|g" -e "s|@VILLAGE_KEY@|$village|g" \
      "/compose/$node.json" > "/config/$node.json"
done

# The nodes run as the image's non-root user; the CA volume stays root's.
chown -R "$APP_UID:$APP_UID" /data /config
echo "keys ready: city $city, county $county, township $township, village $village"
