#!/bin/bash
# mxtls interoperability lab: BIND 9 (signed root, interop., child zones),
# Postfix (STARTTLS), nginx (MTA-STS policies), unbound (validating resolver).
# Everything on loopback only.
#
#   ./setup.sh          build everything from scratch (CA, keys, zones) and start the daemons
#   ./setup.sh start    start the daemons with what was built
#   ./setup.sh stop     stop the daemons started by this script
#   ./setup.sh status
#
# Addresses:
#   127.0.0.53:53   BIND (default minimal-responses, i.e. 9.18's no-auth-recursive)
#   127.0.0.63:53   BIND, same zones, `minimal-responses no;` (full authority/additional sections)
#   127.0.0.54:53   unbound, validating, stub "." -> 127.0.0.53
#   127.0.0.25:25   Postfix smtpd, ECDSA P-256 cert      [::1]:25 same
#   127.0.0.26:25   Postfix smtpd, RSA-2048 cert only
#   127.0.0.27:25   Postfix smtpd, RSA + ECDSA certs (smtpd_tls_chain_files with both)
#   127.0.0.29:25   Postfix postscreen (multi-line "220-" greeting, 6 s greet wait) -> smtpd
#   127.0.0.30:25   Postfix postscreen with the after-220 tests (pipelining, non-SMTP, bare newline): postscreen+tlsproxy answer EHLO/STARTTLS
#   127.0.0.44:443  nginx, MTA-STS policies by SNI (RSA-2048 cert)
#   127.0.0.45:443  nginx, HTTP/2 + gzip, mta-sts.h2.interop
#   127.0.0.32:25   Postfix smtpd, certificate chosen by SNI (tls_server_sni_maps)
#   127.0.0.34:25   Postfix smtpd, expired certificate naming another host (mx-ec key)
#   127.0.0.35:25   Postfix smtpd, leaf only, no intermediate in the chain
#   127.0.0.31:25   Postfix smtpd, smtpd_client_connection_count_limit=1 and connection_rate_limit=2/60s (anvil), no mynetworks exception
#
# Requires (Debian 12): bind9 bind9-utils bind9-dnsutils postfix nginx-light unbound openssl
set -euo pipefail
for c in named dnssec-signzone dig postfix posttls-finger nginx unbound openssl jq; do
  command -v $c >/dev/null || { echo "setup.sh: $c is missing; install: apt-get install -y bind9 bind9-utils bind9-dnsutils postfix nginx-light unbound openssl jq" >&2; exit 2; }
done
B=${MXTLS_INTEROP_DIR:-/tmp/mxtls-interop}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$B"
L=$B/lab
MODE=${1:-all}

stop_all() {
  [ -f $L/run/named.pid ] && kill "$(cat $L/run/named.pid)" 2>/dev/null || true
  [ -f $L/run/named2.pid ] && kill "$(cat $L/run/named2.pid)" 2>/dev/null || true
  [ -f $L/run/unbound.pid ] && kill "$(cat $L/run/unbound.pid)" 2>/dev/null || true
  [ -f $L/run/nginx.pid ] && kill "$(cat $L/run/nginx.pid)" 2>/dev/null || true
  [ -d $L/postfix/etc ] && postfix -c $L/postfix/etc stop 2>/dev/null || true
  sleep 1
}

start_all() {
  mkdir -p $L/run
  chown bind:bind $L/run $L/dns $L/dns2 2>/dev/null || true
  # named only listens on addresses it finds on an interface: give lo the two BIND addresses
  for a in 127.0.0.53 127.0.0.63; do ip -4 addr show dev lo | grep -c " $a/" >/dev/null || ip addr add $a/32 dev lo 2>/dev/null || true; done
  named -u bind -c $L/dns/named.conf
  named -u bind -c $L/dns2/named.conf
  postfix -c $L/postfix/etc start || script -qc "postfix -c $L/postfix/etc start" /dev/null
  nginx -p $L/nginx -c $L/nginx/nginx.conf
  unbound -c $L/unbound/unbound.conf
  sleep 2
  status_all
}

status_all() {
  dig +short +norec @127.0.0.53 good.interop MX || true
  dig +short @127.0.0.54 +dnssec good.interop MX | head -1 || true
  ss -ltnp | grep -E '127\.0\.0\.(25|26|27|29|30|31|32|34|35|44|45|53|54|63)|\[::1\]:25' || true
}

case "$MODE" in
  stop) stop_all; exit 0;;
  start) start_all; exit 0;;
  status) status_all; exit 0;;
  all) ;;
  *) echo "usage: $0 [all|start|stop|status]"; exit 2;;
esac

stop_all
rm -rf $L
mkdir -p $L/{ca,dns,dns2,run,postfix,nginx,unbound}

# ---------------------------------------------------------------- scenarios
# name  mx-host-label  mx-address  tlsa-kind   policy-kind   signed
# MX host of each zone is mx1.<zone> unless stated.
SCEN="good mismatch split cname v6 charset crlf nomaxage testing insecure rsa dual pscreen pscreen2 nsec3 wild wild3 wildpol danetas bogus big agility alg8 alg15 anvil h2 ws bom pol6 nullmx implicit xzone sni kasp hosted expired noint noint2"
MXNAMES=""
for s in $SCEN; do MXNAMES="$MXNAMES mx1.$s.interop"; done
MXNAMES="$MXNAMES mail.cname.interop mx2.wild.interop"
POLNAMES=""
for s in $SCEN; do POLNAMES="$POLNAMES mta-sts.$s.interop"; done

# ---------------------------------------------------------------- CA: root -> intermediate -> leaves
cd $L/ca
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/CN=Interop Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
openssl ecparam -name prime256v1 -genkey -noout -out int.key
openssl req -new -key int.key -subj "/CN=Interop Intermediate CA" -out int.csr
cat > int.ext <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 1825 -sha256 -extfile int.ext -out int.pem

leaf() { # name keytype sans...
  local n=$1 kt=$2; shift 2
  if [ "$kt" = ec ]; then openssl ecparam -name prime256v1 -genkey -noout -out $n.key0; openssl pkcs8 -topk8 -nocrypt -in $n.key0 -out $n.key; rm $n.key0
  else openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $n.key 2>/dev/null; fi
  local san=""; for h in "$@"; do san="$san${san:+,}DNS:$h"; done
  openssl req -new -key $n.key -subj "/CN=$1" -out $n.csr
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature%s\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
    "$([ $kt = rsa ] && echo ,keyEncipherment)" "$san" > $n.ext
  openssl x509 -req -in $n.csr -CA int.pem -CAkey int.key -CAcreateserial -days 365 -sha256 -extfile $n.ext -out $n.crt
  cat $n.crt int.pem > $n.chain.pem          # leaf + intermediate, as servers send
  cat $n.key $n.crt int.pem > $n.all.pem     # Postfix smtpd_tls_chain_files format
  openssl pkey -in $n.key -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > $n.spki256
}
leaf mx-ec ec $MXNAMES
leaf mx-rsa rsa $MXNAMES
leaf policy rsa $POLNAMES
# sni: one key, two certificates: mx1.sni.interop only, and mail.sni.interop only (Postfix picks by SNI)
openssl ecparam -name prime256v1 -genkey -noout -out sni.key0; openssl pkcs8 -topk8 -nocrypt -in sni.key0 -out sni.key; rm sni.key0
for h in mx1 mail; do
  openssl req -new -key sni.key -subj "/CN=$h.sni.interop" -out sni-$h.csr
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' $h.sni.interop > sni-$h.ext
  openssl x509 -req -in sni-$h.csr -CA int.pem -CAkey int.key -CAcreateserial -days 365 -sha256 -extfile sni-$h.ext -out sni-$h.crt
  cat sni.key sni-$h.crt int.pem > sni-$h.all.pem
done
# the certificate Postfix picks for SNI mail.sni.interop is self-signed (same key, so DANE 3 1 1 still matches)
openssl req -x509 -new -key sni.key -sha256 -days 365 -subj "/CN=mail.sni.interop" -addext "subjectAltName=DNS:mail.sni.interop" -out sni-mailself.crt
cat sni.key sni-mailself.crt > sni-mailself.all.pem
openssl pkey -in sni.key -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > sni.spki256
openssl x509 -in int.pem -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 > int.spki256
# expired: a certificate on the mx-ec key that expired in 2025 and names another host (DANE-EE ignores both, RFC 7672 §3.1.1)
mkdir -p db; : > db/index.txt; echo 1000 > db/serial
printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/db/index.txt\nserial=%s/db/serial\nnew_certs_dir=%s/db\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' $L/ca $L/ca $L/ca > ca.cnf
openssl req -new -key mx-ec.key -subj "/CN=wrong.example" -out expired.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:wrong.example\n' > expired.ext
openssl ca -batch -config ca.cnf -cert int.pem -keyfile int.key -in expired.csr -startdate 20240101000000Z -enddate 20250101000000Z -extfile expired.ext -notext -out expired.crt 2>/dev/null
cat mx-ec.key expired.crt int.pem > expired.all.pem
# noint: the mx-ec leaf without its intermediate (TLSA 2 1 1 names the intermediate)
cat mx-ec.key mx-ec.crt > noint.all.pem
SNI311=$(cat sni.spki256); EC311=$(cat mx-ec.spki256); RSA311=$(cat mx-rsa.spki256); INT211=$(cat int.spki256)
chmod 644 *.pem *.crt; chmod 640 *.key; chgrp www-data policy.key

# ---------------------------------------------------------------- DNS zones
Z=$L/dns/zones; mkdir -p $Z; cd $Z
SER=$(date -u +%Y%m%d%H)
soa() { # origin
cat <<EOF
\$TTL 300
@ IN SOA ns.interop. hostmaster.interop. ( $SER 3600 600 864000 300 )
@ IN NS ns.interop.
EOF
}
mta() { # zone  (standard _mta-sts + _smtp._tls + mta-sts A)
cat <<EOF
_mta-sts IN TXT "v=STSv1; id=2026113001"
mta-sts IN A 127.0.0.44
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@$1"
EOF
}
WRONG=0000000000000000000000000000000000000000000000000000000000000000

{ soa; cat <<EOF; mta good.interop; } > good.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
policy IN A 127.0.0.44
hosted._smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.interop"
unsig IN NS ns.interop.
EOF
{ soa; cat <<EOF; } > unsig.good.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
cp unsig.good.interop.zone unsig.good.interop.zone.signed
{ soa; cat <<EOF; mta mismatch.interop; } > mismatch.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 ${WRONG:0:56}deadbeef
EOF
{ soa; cat <<EOF; } > split.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
_mta-sts IN TXT "v=STSv1; " "id=2026"
mta-sts IN A 127.0.0.44
_smtp._tls IN TXT "v=TLSRPTv1; " "rua=mailto:tlsrpt@split.interop"
EOF
# MX host is an alias (RFC 5321 5.1 / RFC 2181 10.3 say it must not be); policy host is an alias
{ soa; cat <<EOF; } > cname.interop.zone
@ IN MX 10 mail
mail IN CNAME mx1.good.interop.
_mta-sts IN TXT "v=STSv1; id=2026113001"
mta-sts IN CNAME policy.good.interop.
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@cname.interop"
EOF
{ soa; cat <<EOF; mta v6.interop; } > v6.interop.zone
@ IN MX 10 mx1
mx1 IN AAAA ::1
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
for s in charset crlf nomaxage testing; do
{ soa; cat <<EOF; mta $s.interop; } > $s.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
EOF
done
{ soa; cat <<EOF; mta insecure.interop; } > insecure.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
{ soa; cat <<EOF; mta rsa.interop; } > rsa.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.26
_25._tcp.mx1 IN TLSA 3 1 1 $RSA311
EOF
{ soa; cat <<EOF; mta dual.interop; } > dual.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.27
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
{ soa; cat <<EOF; mta pscreen.interop; } > pscreen.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.29
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
{ soa; cat <<EOF; mta pscreen2.interop; } > pscreen2.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.30
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
# NSEC3 zone: no TLSA (NODATA proven by NSEC3), no _smtp._tls (NXDOMAIN proven by NSEC3)
{ soa; cat <<EOF; } > nsec3.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_mta-sts IN TXT "v=STSv1; id=2026113001"
mta-sts IN A 127.0.0.44
EOF
# wildcard: mx1.wild.interop only exists through *.wild.interop; TLSA through a wildcard too
{ soa; cat <<EOF; } > wild.interop.zone
@ IN MX 10 mx1
@ IN MX 20 mx2
* IN A 127.0.0.25
mx2 IN A 127.0.0.25
*._tcp.mx2 IN TLSA 3 1 1 $EC311
*.sts IN A 127.0.0.44
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@wild.interop"
EOF
# wild3: the same wildcard A for the MX host, NSEC3-signed
{ soa; cat <<EOF; } > wild3.interop.zone
@ IN MX 10 mx1
* IN A 127.0.0.25
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@wild3.interop"
EOF
# wildpol: policy host is an alias into a wildcard (as MTA-STS hosting services publish)
{ soa; cat <<EOF; } > wildpol.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_mta-sts IN TXT "v=STSv1; id=2026113001"
mta-sts IN CNAME wildpol.sts.wild.interop.
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@wildpol.interop"
EOF
# big: 24 TLSA records (the RRset is larger than a 1232-byte UDP answer: TC=1, retried over TCP)
{ soa; cat <<EOF; mta big.interop; } > big.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
for i in $(seq 1 30); do echo "_25._tcp.mx1 IN TLSA 3 1 1 $(printf %064x $i)" >> big.interop.zone; done
# agility: the matching 3 1 1 beside a 3 1 2 (SHA-512) of a next key that is not served yet (RFC 7671 §9)
{ soa; cat <<EOF; mta agility.interop; } > agility.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
_25._tcp.mx1 IN TLSA 3 1 2 $(printf %0128x 7)
EOF
# alg8 / alg15: zones signed with RSASHA256 (2048/1024 as commonly deployed) and ED25519; alg8 also has a
# pre-published (inactive) ZSK and a SHA-1 DS beside the SHA-256 one
for s in alg8 alg15; do { soa; cat <<EOF; mta $s.interop; } > $s.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
done
# anvil: Postfix with smtpd_client_connection_count_limit=1 for this client (no mynetworks exception)
{ soa; cat <<EOF; mta anvil.interop; } > anvil.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.31
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
# h2: policy host with HTTP/2 (ALPN h2) and gzip on 127.0.0.45
{ soa; cat <<EOF; } > h2.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_mta-sts IN TXT "v=STSv1; id=2026113001"
mta-sts IN A 127.0.0.45
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@h2.interop"
EOF
for s in ws bom; do { soa; cat <<EOF; mta $s.interop; } > $s.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
EOF
done
# pol6: policy host with A and AAAA; nothing listens on [::1]:443
{ soa; cat <<EOF; mta pol6.interop; } > pol6.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
mta-sts IN AAAA ::1
EOF
# nullmx (RFC 7505), implicit MX (no MX, an A at the apex), xzone (signed domain, MX host in the unsigned zone)
{ soa; cat <<EOF; } > nullmx.interop.zone
@ IN MX 0 .
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.interop"
EOF
{ soa; cat <<EOF; } > implicit.interop.zone
@ IN A 127.0.0.25
EOF
{ soa; cat <<EOF; } > xzone.interop.zone
@ IN MX 10 mx1.insecure.interop.
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.interop"
EOF
# sni: MX host is an alias (mail -> mx1); Postfix on 127.0.0.32 serves, by SNI: mx1.sni.interop (or no SNI) -> CA-signed cert naming
# mx1.sni.interop only; mail.sni.interop (what MTA-STS senders send) -> a self-signed cert. Both on one key (TLSA 3 1 1 matches both).
{ soa; cat <<EOF; mta sni.interop; } > sni.interop.zone
@ IN MX 10 mail
mail IN CNAME mx1
mx1 IN A 127.0.0.32
_25._tcp.mx1 IN TLSA 3 1 1 $SNI311
EOF
# kasp: signed by named itself with BIND's default dnssec-policy (inline-signing), DS added after named made its key
{ soa; cat <<EOF; mta kasp.interop; } > kasp.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
# hosted: _mta-sts and _smtp._tls are aliases into another zone (as MTA-STS / TLSRPT hosting services ask)
{ soa; cat <<EOF; } > hosted.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
_mta-sts IN CNAME _mta-sts.good.interop.
mta-sts IN A 127.0.0.44
_smtp._tls IN CNAME hosted._smtp._tls.good.interop.
EOF
{ soa; cat <<EOF; mta expired.interop; } > expired.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.34
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF
{ soa; cat <<EOF; mta noint.interop; } > noint.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.35
_25._tcp.mx1 IN TLSA 2 1 1 $INT211
EOF
{ soa; cat <<EOF; mta noint2.interop; } > noint2.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.35
EOF
{ soa; cat <<EOF; mta danetas.interop; } > danetas.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 2 1 1 $INT211
EOF
{ soa; cat <<EOF; mta bogus.interop; } > bogus.interop.zone
@ IN MX 10 mx1
mx1 IN A 127.0.0.25
_25._tcp.mx1 IN TLSA 3 1 1 $EC311
EOF

{ soa; cat <<EOF; } > interop.zone
ns IN A 127.0.0.53
EOF
cat > root.zone <<EOF
\$TTL 3600
. IN SOA ns.interop. hostmaster.interop. ( $SER 1800 900 604800 3600 )
. IN NS ns.interop.
interop. IN NS ns.interop.
ns.interop. IN A 127.0.0.53
EOF

keys() { # zone
  dnssec-keygen -q -K $Z -a ECDSAP256SHA256 -f KSK -n ZONE $1 > $1.ksk
  dnssec-keygen -q -K $Z -a ECDSAP256SHA256 -n ZONE $1 > $1.zsk
}
sign() { # zone file [extra dnssec-signzone args]
  local zn=$1 f=$2; shift 2
  dnssec-signzone -q -K $Z -d $Z -o $zn -e +2592000 -S -f $f.signed "$@" $f >/dev/null
}
# children (insecure.interop stays unsigned: no DS)
for s in $SCEN; do
  [ $s = insecure ] && continue
  [ $s = kasp ] && continue
  if [ $s = alg8 ]; then
    dnssec-keygen -q -K $Z -a RSASHA256 -b 2048 -f KSK -n ZONE $s.interop > $s.interop.ksk
    dnssec-keygen -q -K $Z -a RSASHA256 -b 1024 -n ZONE $s.interop > $s.interop.zsk
    dnssec-keygen -q -K $Z -a RSASHA256 -b 1024 -n ZONE -P now -A +365d $s.interop > /dev/null
    sign $s.interop $s.interop.zone
    dnssec-dsfromkey -1 $(cat $s.interop.ksk).key >> dsset-$s.interop.
    continue
  fi
  if [ $s = alg15 ]; then
    dnssec-keygen -q -K $Z -a ED25519 -f KSK -n ZONE $s.interop > $s.interop.ksk
    dnssec-keygen -q -K $Z -a ED25519 -n ZONE $s.interop > $s.interop.zsk
    sign $s.interop $s.interop.zone
    continue
  fi
  keys $s.interop
  if [ $s = nsec3 ] || [ $s = wild3 ]; then sign $s.interop $s.interop.zone -3 - -H 0
  else sign $s.interop $s.interop.zone; fi
done
cp insecure.interop.zone insecure.interop.zone.signed
# delegations in interop. with DS (bogus: a DS of a key the child does not use)
for s in $SCEN; do
  echo "$s IN NS ns.interop." >> interop.zone
  [ $s = insecure ] && continue
  [ $s = kasp ] && continue   # its DS is added once named has made its key (below)
  if [ $s = bogus ]; then
    dnssec-keygen -q -K $Z/.. -a ECDSAP256SHA256 -f KSK -n ZONE bogus.interop > /dev/null
    dnssec-dsfromkey -2 $(ls $L/dns/Kbogus.interop.*.key | head -1) >> interop.zone
  else
    cat dsset-$s.interop. >> interop.zone
  fi
done
keys interop
# the TLD is NSEC3 with opt-out (as .com): insecure delegations are covered by opt-out spans
sign interop interop.zone -3 - -H 0 -A
echo "interop. IN NS ns.interop." >/dev/null
keys .
cat dsset-interop. >> root.zone
sign . root.zone
cp $(cat ..ksk).key $L/root-anchor.key     # the trust anchor for mxtls --trust-anchor
# unbound wants a DS or DNSKEY in zone format too
grep -v '^;' $L/root-anchor.key > $L/unbound/root.key

# named.conf (two instances)
mkconf() { # dir addr extra
cat > $1/named.conf <<EOF
options {
  directory "$1";
  pid-file "$L/run/$4.pid";
  session-keyfile "$1/session.key";
  listen-on port 53 { $2; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  $3
};
controls { };
logging { channel f { file "$1/named.log"; severity info; print-time yes; }; category default { f; }; category queries { f; }; };
zone "." { type primary; file "$Z/root.zone.signed"; };
zone "interop" { type primary; file "$Z/interop.zone.signed"; };
zone "unsig.good.interop" { type primary; file "$Z/unsig.good.interop.zone.signed"; };
EOF
for s in $SCEN; do
  if [ $s = kasp ]; then echo "zone \"$s.interop\" { type primary; file \"$1/kasp.interop.zone\"; dnssec-policy default; inline-signing yes; key-directory \"$1\"; };" >> $1/named.conf
  else echo "zone \"$s.interop\" { type primary; file \"$Z/$s.interop.zone.signed\"; };" >> $1/named.conf; fi
done
}
mkconf $L/dns 127.0.0.53 "" named
mkconf $L/dns2 127.0.0.63 "minimal-responses no;" named2
cp $Z/kasp.interop.zone $L/dns/; cp $Z/kasp.interop.zone $L/dns2/
chown -R bind:bind $L/dns $L/dns2 $L/run
chmod -R a+rX $L
# let named (first instance) make the kasp key; the second instance uses the same key files
mkdir -p $L/run; for a in 127.0.0.53 127.0.0.63; do ip -4 addr show dev lo | grep -c " $a/" >/dev/null || ip addr add $a/32 dev lo 2>/dev/null || true; done
named -u bind -c $L/dns/named.conf
for i in $(seq 1 30); do dig +short +norec @127.0.0.53 kasp.interop DNSKEY | grep -q '^257' && break; sleep 1; done
dig +norec @127.0.0.53 kasp.interop DNSKEY | dnssec-dsfromkey -a SHA-256 -f - kasp.interop >> $Z/interop.zone
kill "$(cat $L/run/named.pid)"; sleep 1
cp $L/dns/Kkasp.interop.* $L/dns2/ ; chown bind:bind $L/dns2/Kkasp.interop.*
cd $Z; sign interop interop.zone -3 - -H 0 -A; cd - >/dev/null

# ---------------------------------------------------------------- unbound
cat > $L/unbound/unbound.conf <<EOF
server:
  interface: 127.0.0.54
  port: 53
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$L/unbound"
  pidfile: "$L/run/unbound.pid"
  logfile: "$L/unbound/unbound.log"
  auto-trust-anchor-file: "$L/unbound/root.key"   # RFC 5011 state file, as Debian/unbound-anchor keep /var/lib/unbound/root.key
  val-log-level: 2
  harden-referral-path: no
  qname-minimisation: no
  module-config: "validator iterator"
stub-zone:
  name: "."
  stub-addr: 127.0.0.53
EOF
unbound-checkconf $L/unbound/unbound.conf

# ---------------------------------------------------------------- Postfix (its own config and queue dirs)
P=$L/postfix; mkdir -p $P/etc $P/spool $P/data
cp /etc/postfix/master.cf $P/etc/master.cf.orig
cp -r /etc/postfix/postfix-files /etc/postfix/postfix-files.d $P/etc/ 2>/dev/null || true
cat > $P/etc/main.cf <<EOF
compatibility_level = 3.6
myhostname = mx1.good.interop
mydomain = good.interop
myorigin = \$myhostname
mydestination = \$myhostname, good.interop, localhost
inet_interfaces = loopback-only
inet_protocols = all
queue_directory = $P/spool
data_directory = $P/data
relayhost =
default_transport = error:interop lab delivers nothing
local_transport = error:interop lab delivers nothing
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = reject_unauth_destination
smtpd_peername_lookup = no
alias_maps =
alias_database =
smtpd_tls_security_level = may
smtpd_tls_chain_files = $L/ca/mx-ec.all.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
maillog_file = $P/maillog
maillog_file_prefixes = /var, /dev/stdout, $B
smtp_dns_support_level = dnssec
smtp_tls_security_level = dane
postscreen_greet_wait = 6s
postscreen_greet_action = ignore
postscreen_dnsbl_sites =
postscreen_cache_map = btree:\$data_directory/postscreen_cache
EOF
cat > $P/etc/master.cf <<EOF
127.0.0.25:smtp inet n - n - - smtpd
[::1]:smtp inet n - n - - smtpd
127.0.0.26:smtp inet n - n - - smtpd -o smtpd_tls_chain_files=$L/ca/mx-rsa.all.pem
127.0.0.27:smtp inet n - n - - smtpd -o smtpd_tls_chain_files=$L/ca/mx-ec.all.pem,$L/ca/mx-rsa.all.pem
127.0.0.29:smtp inet n - n - 1 postscreen -o postscreen_access_list= -o postscreen_greet_ttl=1s
127.0.0.31:smtp inet n - n - - smtpd -o smtpd_client_connection_count_limit=1 -o smtpd_client_connection_rate_limit=2 -o smtpd_client_event_limit_exceptions=
127.0.0.32:smtp inet n - n - - smtpd -o smtpd_tls_chain_files=$L/ca/sni-mx1.all.pem -o tls_server_sni_maps=hash:$P/etc/sni
127.0.0.34:smtp inet n - n - - smtpd -o smtpd_tls_chain_files=$L/ca/expired.all.pem
127.0.0.35:smtp inet n - n - - smtpd -o smtpd_tls_chain_files=$L/ca/noint.all.pem
127.0.0.30:smtp inet n - n - 1 postscreen -o postscreen_access_list= -o postscreen_greet_ttl=1s -o postscreen_pipelining_enable=yes -o postscreen_non_smtp_command_enable=yes -o postscreen_bare_newline_enable=yes -o postscreen_pipelining_ttl=1s -o postscreen_non_smtp_command_ttl=1s -o postscreen_bare_newline_ttl=1s -o postscreen_cache_map=btree:$P/data/postscreen_cache2
smtpd      pass  - - n - - smtpd
tlsproxy   unix  - - n - 0 tlsproxy
dnsblog    unix  - - n - 0 dnsblog
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local      unix  - n n - - local
virtual    unix  - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
printf 'mail.sni.interop %s\n' $L/ca/sni-mailself.all.pem > $P/etc/sni; postmap -F -c $P/etc hash:$P/etc/sni
postfix -c $P/etc set-permissions >/dev/null 2>&1 || true
postfix -c $P/etc check

# ---------------------------------------------------------------- nginx
N=$L/nginx; mkdir -p $N/logs $N/tmp
pol() { # scenario  mode  mx  [extra]
  mkdir -p $N/www/$1/.well-known
  printf 'version: STSv1\nmode: %s\nmx: %s\n%s' "$2" "$3" "${4-max_age: 86400
}" > $N/www/$1/.well-known/mta-sts.txt
}
for s in $SCEN; do pol $s enforce mx1.$s.interop; done
pol cname enforce mail.cname.interop
pol sni enforce mail.sni.interop
pol testing testing mx1.testing.interop
pol nomaxage enforce mx1.nomaxage.interop ""
printf 'version: STSv1  \nmode: enforce \nmx: mx1.ws.interop\t\nmax_age: 86400 \n' > $N/www/ws/.well-known/mta-sts.txt
printf '\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: mx1.bom.interop\nmax_age: 86400\n' > $N/www/bom/.well-known/mta-sts.txt
sed -i 's/$/\r/' $N/www/crlf/.well-known/mta-sts.txt
cat > $N/nginx.conf <<EOF
user www-data;
worker_processes 1;
pid $L/run/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 64; }
http {
  access_log $N/logs/access.log;
  client_body_temp_path $N/tmp; proxy_temp_path $N/tmp; fastcgi_temp_path $N/tmp; uwsgi_temp_path $N/tmp; scgi_temp_path $N/tmp;
  ssl_certificate $L/ca/policy.chain.pem;
  ssl_certificate_key $L/ca/policy.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  types { }
  default_type text/plain;
  server { listen 127.0.0.44:443 ssl default_server; server_name _; return 404; }
EOF
for s in $SCEN; do
  extra=""; [ $s = charset ] && extra="charset utf-8;"
  lst="listen 127.0.0.44:443 ssl;"
  [ $s = h2 ] && { lst="listen 127.0.0.45:443 ssl http2;"; extra="gzip on; gzip_types text/plain; gzip_min_length 0;"; }
  cat >> $N/nginx.conf <<EOF
  server { $lst server_name mta-sts.$s.interop; root $N/www/$s; $extra
           location = /.well-known/mta-sts.txt { } location / { return 404; } }
EOF
done
echo "}" >> $N/nginx.conf
chmod -R a+rX $N/www
nginx -t -p $N -c $N/nginx.conf

# posttls-finger (ptf.sh) gets this resolv.conf in a private mount namespace, and its own main.cf
printf 'nameserver 127.0.0.54\noptions trust-ad edns0\n' > $L/resolv.conf
mkdir -p $L/ptf; printf 'smtp_dns_support_level = dnssec\nsmtp_tls_security_level = dane\n' > $L/ptf/main.cf

cat > $B/env.sh <<EOF
# . $B/env.sh  -- mxtls against the interop lab
export MXTLS=\${MXTLS:-$REPO/target/release/mxtls}
export MXTLS_RESOLVER=127.0.0.53 MXTLS_TRUST_ANCHOR=$L/root-anchor.key MXTLS_CA_FILE=$L/ca/root.pem MXTLS_ALLOW_PRIVATE=true MXTLS_COLOR=never
EOF

start_all
