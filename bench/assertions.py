#!/usr/bin/env python3
"""Client assertions for the token-pkjwt run of bench/run.sh (RFC 7523
private_key_jwt), made ahead of the run so that wrk only sends them.

  assertions.py keygen KEY_FILE
      writes a new P-256 private key (PEM) to KEY_FILE and prints the JWK Set
      of its public key, as the bench client registers it ("jwks").

  assertions.py sign KEY_FILE CLIENT_ID AUDIENCE COUNT FILE...
      writes COUNT ES256 assertions to each FILE, one per line, each with its
      own jti, iss = sub = CLIENT_ID, aud = AUDIENCE and exp 5 minutes ahead
      (Castellan accepts no more): the run must start within that time.
      One process per file, so both CPUs sign.

Needs the `cryptography` package (Debian: python3-cryptography).
"""

import base64
import json
import multiprocessing
import os
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

LIFETIME_SECS = 290


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keygen(key_file: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with open(key_file, "wb") as out:
        out.write(pem)
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "EC", "crv": "P-256", "kid": "bench", "alg": "ES256", "use": "sig",
        "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big")),
    }
    print(json.dumps({"keys": [jwk]}))


def sign_file(job) -> int:
    key_file, client_id, audience, count, path = job
    with open(key_file, "rb") as key_in:
        key = serialization.load_pem_private_key(key_in.read(), password=None)
    header = b64(json.dumps({"alg": "ES256", "kid": "bench", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    prefix = os.urandom(6).hex()
    algorithm = ec.ECDSA(hashes.SHA256())
    with open(path, "w") as out:
        for i in range(count):
            claims = {
                "iss": client_id, "sub": client_id, "aud": audience,
                "iat": now, "exp": now + LIFETIME_SECS, "jti": f"{prefix}-{i}",
            }
            signing_input = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
            r, s = decode_dss_signature(key.sign(signing_input.encode(), algorithm))
            out.write(signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")) + "\n")
    return count


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "keygen":
        keygen(sys.argv[2])
    elif len(sys.argv) >= 7 and sys.argv[1] == "sign":
        key_file, client_id, audience, count = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        jobs = [(key_file, client_id, audience, count, path) for path in sys.argv[6:]]
        with multiprocessing.Pool(min(len(jobs), os.cpu_count() or 1)) as pool:
            pool.map(sign_file, jobs)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
