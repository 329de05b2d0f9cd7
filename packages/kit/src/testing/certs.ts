import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Files of one certificate and its key. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** subjectAltName entries. Default `DNS:localhost,IP:127.0.0.1`. */
  altNames: string;
  /** Validity in days; negative makes a certificate that has already expired. Default 2. */
  days: number;
}

/**
 * Real certificates made with the system's openssl at test time, so TLS
 * tests exercise real handshakes and nothing secret is committed. EC P-256
 * keys, because RSA key generation would cost seconds per test file.
 */
export class TestPki {
  readonly dir: string;
  #serial = 0;

  constructor(dir = mkdtempSync(join(tmpdir(), "prescient-pki-"))) {
    this.dir = dir;
  }

  /** A self-signed CA. */
  authority(name: string): CertFiles {
    const files = this.#paths(name);
    openssl(
      ["req", "-x509", ...newKey(files.key), "-out", files.cert, "-subj", `/CN=${name}`, "-days", "2"],
      this.dir,
    );
    return files;
  }

  /** A certificate for server and client use, signed by `ca`. */
  issue(ca: CertFiles, name: string, options: Partial<IssueOptions> = {}): CertFiles {
    const { altNames, days } = { altNames: "DNS:localhost,IP:127.0.0.1", days: 2, ...options };
    const files = this.#paths(name);
    const csr = join(this.dir, `${name}.csr`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(["req", "-new", ...newKey(files.key), "-out", csr, "-subj", `/CN=${name}`], this.dir);
    // openssl 3.0's x509 has no -not_after; a negative -days puts notAfter before now.
    openssl(
      [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-set_serial",
        String(++this.#serial + 1000),
        "-days",
        String(days),
        "-extfile",
        ext,
        "-out",
        files.cert,
      ],
      this.dir,
    );
    return files;
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  #paths(name: string): CertFiles {
    return { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}.key`) };
  }
}

const newKey = (keyFile: string): string[] => [
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  keyFile,
];

function openssl(args: string[], cwd: string): void {
  execFileSync("/usr/bin/openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}
