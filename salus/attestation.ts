// TVM measurement registers, AttestationCapabilities and X.509 evidence (cove-abi.md section 6).
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Certificate, Extension, Extensions, Name,
  RelativeDistinguishedName, SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
} from '@peculiar/asn1-x509';

export const HASH_SIZE = 48; // SHA-384
export const MSMT_REGISTERS = 8;
export const REG = { PLATFORM_CODE: 0, PLATFORM_CONFIG: 1, TVM_PAGES: 2, TVM_CONFIG: 3, FIRST_RUNTIME: 4 } as const;
export const CERT_FORMAT_X509 = 2;
export const HASH_SHA384 = 0; // enum HashAlgorithm
export const TCB_SVN = 1;
export const CAPS_SIZE = 336;
export const PAGE_SIZE = 4096;
/** TCG PC-client PCR of each msmt_regs[] position (digest 6.4 suggested layout). */
export const TCG_PCR = [0, 1, 2, 3, 17, 18, 19, 20] as const;

/** A software TSM has no root of trust to measure it, so the platform registers hold hashes of these names. */
export const PLATFORM_CODE_NAME = 'Salus TypeScript: RV64GC+H emulator, built-in SBI firmware, Salus TSM, attestation v1';
export const PLATFORM_CONFIG_NAME = 'Salus TypeScript platform configuration v1';

export const OID = {
  sha384: '2.16.840.1.101.3.4.2.2',
  ed25519: '1.3.101.112',
  commonName: '2.5.4.3',
  diceTcbInfo: '2.23.133.5.4.1',
  diceTcbFreshness: '2.23.133.5.4.11',
  // Our own arc: 2.25.<UUID 94c54ee1-eb5f-4267-a5a8-e24680a49ba5> (X.667, needs no registration).
  tvmIdentity: '2.25.197750225784428699621372008646704405413.1',
  opaqueTvmKey: '2.25.197750225784428699621372008646704405413.2',
} as const;

const sha384 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

const le64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};

const isRegister = (index: number): boolean => Number.isInteger(index) && index >= 0 && index < MSMT_REGISTERS;

export class Measurements {
  private readonly regs: Uint8Array[] = [];
  private done = false;

  constructor() {
    for (let i = 0; i < MSMT_REGISTERS; i++) this.regs.push(new Uint8Array(HASH_SIZE));
    this.regs[REG.PLATFORM_CODE] = sha384(new TextEncoder().encode(PLATFORM_CODE_NAME));
    this.regs[REG.PLATFORM_CONFIG] = sha384(new TextEncoder().encode(PLATFORM_CONFIG_NAME));
  }

  get finalized(): boolean {
    return this.done;
  }

  /** PAGES = SHA384(PAGES || le64(gpa) || page). Throws once finalized: the TSM must refuse the call before. */
  extendPage(gpa: bigint, page: Uint8Array): void {
    if (this.done) throw new Error('measured page added after finalize');
    if (page.length !== PAGE_SIZE) throw new Error(`measured page is ${page.length} bytes, not ${PAGE_SIZE}`);
    this.regs[REG.TVM_PAGES] = sha384(this.regs[REG.TVM_PAGES], le64(gpa), page);
  }

  /** CONFIG = SHA384(SHA384(CONFIG || le64(entry_sepc)) || le64(entry_arg)); the initial registers freeze. */
  finalize(entrySepc: bigint, entryArg: bigint): void {
    if (this.done) throw new Error('TVM measurement finalized twice');
    const config = sha384(this.regs[REG.TVM_CONFIG], le64(entrySepc));
    this.regs[REG.TVM_CONFIG] = sha384(config, le64(entryArg));
    this.done = true;
  }

  /** Runtime extend: R = SHA384(R || digest). Returns false if index is not a runtime register or not finalized or digest.length !== 48. */
  extendRuntime(index: number, digest: Uint8Array): boolean {
    if (!this.done || !isRegister(index) || index < REG.FIRST_RUNTIME || digest.length !== HASH_SIZE) return false;
    this.regs[index] = sha384(this.regs[index], digest);
    return true;
  }

  /** A copy of register `index` (a position in msmt_regs[], not a PCR number); null for a bad index. */
  read(index: number): Uint8Array | null {
    return isRegister(index) ? this.regs[index].slice() : null;
  }
}

/** The 336-byte AttestationCapabilities struct of digest 6.2; descriptors past position 7 stay zero. */
export function attestationCapabilities(): Uint8Array {
  const caps = new Uint8Array(CAPS_SIZE);
  const view = new DataView(caps.buffer);
  view.setBigUint64(0x00, BigInt(TCB_SVN), true);
  view.setUint32(0x08, HASH_SHA384, true);
  view.setUint32(0x0c, CERT_FORMAT_X509, true);
  caps[0x10] = REG.FIRST_RUNTIME; // initial registers
  caps[0x11] = MSMT_REGISTERS - REG.FIRST_RUNTIME; // runtime registers
  TCG_PCR.forEach((pcr, i) => {
    const at = 0x14 + 12 * i;
    view.setUint32(at, HASH_SHA384, true);
    view.setUint32(at + 4, i < REG.FIRST_RUNTIME ? 0 : 1, true); // 0 Initial, 1 Runtime
    caps[at + 8] = pcr;
  });
  return caps;
}

// ---- ASN.1 schemas the X.509 library does not have --------------------------------------------
// tsconfig has no experimentalDecorators, so the library's property decorators are applied as calls.
type PropOptions = Parameters<typeof AsnProp>[0];
function asnField(cls: { prototype: object }, name: string, options: PropOptions): void {
  AsnProp(options)(cls.prototype, name);
}
const tagged = (context: number, type: PropOptions['type']): PropOptions =>
  ({ type, context, implicit: true, optional: true });

/** FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING } (TCG DICE). */
export class Fwid {
  hashAlg = '';
  digest = new OctetString();
}
asnField(Fwid, 'hashAlg', { type: AsnPropTypes.ObjectIdentifier });
asnField(Fwid, 'digest', { type: OctetString });

/** DiceTcbInfo (TCG DICE Attestation Architecture, IMPLICIT tags); only the fields we fill. */
export class DiceTcbInfo {
  vendor?: string;
  model?: string;
  version?: string;
  svn?: number;
  layer?: number;
  index?: number;
  fwids?: Fwid[];
}
asnField(DiceTcbInfo, 'vendor', tagged(0, AsnPropTypes.Utf8String));
asnField(DiceTcbInfo, 'model', tagged(1, AsnPropTypes.Utf8String));
asnField(DiceTcbInfo, 'version', tagged(2, AsnPropTypes.Utf8String));
asnField(DiceTcbInfo, 'svn', tagged(3, AsnPropTypes.Integer));
asnField(DiceTcbInfo, 'layer', tagged(4, AsnPropTypes.Integer));
asnField(DiceTcbInfo, 'index', tagged(5, AsnPropTypes.Integer));
asnField(DiceTcbInfo, 'fwids', { ...tagged(6, Fwid), repeated: 'sequence' });

/** TcbFreshness ::= SEQUENCE { nonce OCTET STRING } (TCG DICE, OID 2.23.133.5.4.11). */
export class TcbFreshness {
  nonce = new OctetString();
}
asnField(TcbFreshness, 'nonce', { type: OctetString });

/** PKCS#8 PrivateKeyInfo (RFC 5208): Node 20 has no raw-seed import, and its JWK import wants the public key too. */
class PrivateKeyInfo {
  version = 0;
  privateKeyAlgorithm = new AlgorithmIdentifier();
  privateKey = new OctetString();
}
asnField(PrivateKeyInfo, 'version', { type: AsnPropTypes.Integer });
asnField(PrivateKeyInfo, 'privateKeyAlgorithm', { type: AlgorithmIdentifier });
asnField(PrivateKeyInfo, 'privateKey', { type: OctetString });

// ---- evidence ---------------------------------------------------------------------------------
export const CHALLENGE_SIZE = 64;
export const IDENTITY_SIZE = 64;
// Fixed so that the same inputs give the same certificate; 9999-12-31 means "no expiry" (RFC 5280 4.1.2.5).
export const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
export const NOT_AFTER = new Date('9999-12-31T23:59:59Z');

export interface EvidenceRequest {
  measurements: Measurements;
  challenge: Uint8Array; // 64 bytes
  publicKey: Uint8Array;
  identity?: Uint8Array; // 64 bytes or absent
  tvmId: number;
}

const der = (value: unknown): Uint8Array => new Uint8Array(AsnConvert.serialize(value));
const commonName = (cn: string): Name =>
  new Name([new RelativeDistinguishedName([
    new AttributeTypeAndValue({ type: OID.commonName, value: new AttributeValue({ utf8String: cn }) }),
  ])]);
const extension = (oid: string, value: unknown): Extension =>
  new Extension({ extnID: oid, critical: false, extnValue: new OctetString(der(value)) });

/** A DER SubjectPublicKeyInfo node:crypto accepts is used as it is; any other bytes go in under an opaque algorithm. */
function tvmKeyInfo(publicKey: Uint8Array): SubjectPublicKeyInfo {
  try {
    createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
    const info = AsnConvert.parse(publicKey, SubjectPublicKeyInfo);
    if (Buffer.from(der(info)).equals(publicKey)) return info;
  } catch {
    // not an SPKI: fall through
  }
  return new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID.opaqueTvmKey }),
    subjectPublicKey: publicKey.slice().buffer,
  });
}

export class AttestationKey {
  private constructor(private readonly key: KeyObject, readonly publicKeyDer: Uint8Array) {}

  /** The TSM's Ed25519 key from a 32-byte seed, so runs are reproducible. */
  static fromSeed(seed: Uint8Array): AttestationKey {
    if (seed.length !== 32) throw new Error('Ed25519 seed must be 32 bytes');
    const info = Object.assign(new PrivateKeyInfo(), {
      privateKeyAlgorithm: new AlgorithmIdentifier({ algorithm: OID.ed25519 }),
      privateKey: new OctetString(der(new OctetString(seed))), // CurvePrivateKey ::= OCTET STRING (RFC 8410)
    });
    const key = createPrivateKey({ key: Buffer.from(der(info)), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return new AttestationKey(key, new Uint8Array(spki));
  }

  /** DER X.509 v3 certificate for the TVM, signed by this key (layout in docs/attestation.md). */
  evidence(req: EvidenceRequest): Uint8Array {
    if (!req.measurements.finalized) throw new Error('evidence before the TVM is finalized');
    if (req.challenge.length !== CHALLENGE_SIZE) throw new Error(`challenge must be ${CHALLENGE_SIZE} bytes`);
    if (req.identity && req.identity.length !== IDENTITY_SIZE) throw new Error(`identity must be ${IDENTITY_SIZE} bytes`);
    if (!Number.isInteger(req.tvmId) || req.tvmId < 0) throw new Error('bad TVM id');

    const fwids = Array.from({ length: MSMT_REGISTERS }, (_, i) =>
      Object.assign(new Fwid(), { hashAlg: OID.sha384, digest: new OctetString(req.measurements.read(i)!) }));
    const tcbInfo = Object.assign(new DiceTcbInfo(), { vendor: 'Salus', model: 'Salus TSM', svn: TCB_SVN, fwids });
    const freshness = Object.assign(new TcbFreshness(), { nonce: new OctetString(req.challenge) });
    const extensions = new Extensions([extension(OID.diceTcbInfo, tcbInfo), extension(OID.diceTcbFreshness, freshness)]);
    if (req.identity) extensions.push(extension(OID.tvmIdentity, new OctetString(req.identity)));

    const subject = commonName(`Salus TVM ${req.tvmId}`);
    const subjectPublicKeyInfo = tvmKeyInfo(req.publicKey);
    // Serial from everything the certificate says: positive, 16 bytes, first byte non-zero (minimal DER).
    const serial = sha384(der(extensions), der(subjectPublicKeyInfo), der(subject)).slice(0, 16);
    serial[0] = (serial[0] & 0x7f) | 0x40;

    const signatureAlgorithm = new AlgorithmIdentifier({ algorithm: OID.ed25519 }); // no parameters (RFC 8410)
    const tbsCertificate = new TBSCertificate({
      version: Version.v3,
      serialNumber: serial.buffer,
      signature: signatureAlgorithm,
      issuer: commonName('Salus TSM'),
      validity: new Validity({ notBefore: NOT_BEFORE, notAfter: NOT_AFTER }),
      subject,
      subjectPublicKeyInfo,
      extensions,
    });
    const signatureValue = sign(null, der(tbsCertificate), this.key);
    return der(new Certificate({ tbsCertificate, signatureAlgorithm, signatureValue: new Uint8Array(signatureValue).buffer }));
  }
}
