#!/bin/sh
# Creates each node's signing key in its data volume (keygen keeps an existing key, so a node's
# identity survives `docker compose up` again) and writes the configs with the public keys filled in.
set -eu

key() { dotnet /app/federation.dll keygen --data "/data/$1"; }
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

# The nodes run as the image's non-root user.
chown -R "$APP_UID:$APP_UID" /data /config
echo "keys ready: city $city, county $county, township $township, village $village"
