import { describe, it, expect } from 'vitest';
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import {
  HASH_SIZE, MSMT_REGISTERS, REG, CERT_FORMAT_X509, CAPS_SIZE, TCB_SVN, OID, PLATFORM_CODE_NAME, PLATFORM_CONFIG_NAME,
  Measurements, attestationCapabilities, AttestationKey, DiceTcbInfo, TcbFreshness,
} from '../salus/attestation.js';

const hex = (b: Uint8Array | ArrayBuffer | null): string => Buffer.from(b as Uint8Array).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const sha384 = (...parts: Uint8Array[]): string => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const page = (fill: number): Uint8Array => new Uint8Array(4096).fill(fill);
const le64 = (v: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

// Check values from cove-abi.md 6.4.
const CONFIG_80200000 = '58bf92eb6125fa2273ecc988869d885e12ffd98d34fa1d6208071c189ef5f7660d19997ab85c523af853413b1c763f39';
const RUNTIME_DIGEST = '97982a5b1414b9078103a1c008c4e3526c27b41cdbcf80790560a40f2a9bf2ed4427ab1428789915ed4b3dc07c454bd9';
const RUNTIME_AFTER = '96c4ef47b5b70840706372472f80b355673b289d02e219e2b55f2d3727596c9790adda77fa1b53bae481daa1113cc4b7';

function finalized(): Measurements {
  const m = new Measurements();
  m.extendPage(0x80200000n, page(0x13));
  m.extendPage(0x80201000n, page(0x37));
  m.finalize(0x80200000n, 0n);
  return m;
}

describe('measurement registers', () => {
  it('start as documented: platform registers hash fixed names, the others are zero', () => {
    const m = new Measurements();
    expect(hex(m.read(REG.PLATFORM_CODE))).toBe(sha384(Buffer.from(PLATFORM_CODE_NAME)));
    expect(hex(m.read(REG.PLATFORM_CONFIG))).toBe(sha384(Buffer.from(PLATFORM_CONFIG_NAME)));
    for (let i = REG.TVM_PAGES; i < MSMT_REGISTERS; i++) expect(hex(m.read(i))).toBe('00'.repeat(HASH_SIZE));
    expect(m.finalized).toBe(false);
  });

  it('CONFIG for entry 0x80200000, arg 0 matches the digest check value', () => {
    const m = new Measurements();
    m.finalize(0x80200000n, 0n);
    expect(m.finalized).toBe(true);
    expect(hex(m.read(REG.TVM_CONFIG))).toBe(CONFIG_80200000);
  });

  it('runtime extend from zero matches the digest check value', () => {
    const m = new Measurements();
    m.finalize(0x80200000n, 0n);
    expect(m.extendRuntime(REG.FIRST_RUNTIME, unhex(RUNTIME_DIGEST))).toBe(true);
    expect(hex(m.read(REG.FIRST_RUNTIME))).toBe(RUNTIME_AFTER);
    expect(hex(m.read(REG.FIRST_RUNTIME + 1))).toBe('00'.repeat(HASH_SIZE));
  });

  it('PAGES follows the recipe and depends on page order and GPA', () => {
    const a = new Measurements();
    a.extendPage(0x1000n, page(1));
    a.extendPage(0x2000n, page(2));
    const step1 = sha384(new Uint8Array(HASH_SIZE), le64(0x1000n), page(1));
    expect(hex(a.read(REG.TVM_PAGES))).toBe(sha384(unhex(step1), le64(0x2000n), page(2)));

    const swapped = new Measurements();
    swapped.extendPage(0x2000n, page(2));
    swapped.extendPage(0x1000n, page(1));
    expect(hex(swapped.read(REG.TVM_PAGES))).not.toBe(hex(a.read(REG.TVM_PAGES)));

    const moved = new Measurements();
    moved.extendPage(0x3000n, page(1));
    moved.extendPage(0x2000n, page(2));
    expect(hex(moved.read(REG.TVM_PAGES))).not.toBe(hex(a.read(REG.TVM_PAGES)));
    expect(hex(a.read(REG.TVM_CONFIG))).toBe('00'.repeat(HASH_SIZE));
  });

  it('rejects runtime extends before finalize, of initial or missing registers, and of wrong length', () => {
    const m = new Measurements();
    const digest = unhex(RUNTIME_DIGEST);
    expect(m.extendRuntime(REG.FIRST_RUNTIME, digest)).toBe(false);
    m.finalize(0n, 0n);
    for (const bad of [-1, 0, 1, 2, 3, 8, 17, 4.5, NaN]) expect(m.extendRuntime(bad, digest)).toBe(false);
    expect(m.extendRuntime(5, digest.subarray(0, 47))).toBe(false);
    expect(m.extendRuntime(5, new Uint8Array(49))).toBe(false);
    expect(m.extendRuntime(5, new Uint8Array(64))).toBe(false);
    for (let i = REG.FIRST_RUNTIME; i < MSMT_REGISTERS; i++) expect(hex(m.read(i))).toBe('00'.repeat(HASH_SIZE));
    expect(m.extendRuntime(7, digest)).toBe(true);
  });

  it('read returns null for a bad index and a copy otherwise', () => {
    const m = new Measurements();
    for (const bad of [-1, 8, 1.5, NaN]) expect(m.read(bad)).toBeNull();
    m.read(REG.TVM_PAGES)!.fill(0xff);
    expect(hex(m.read(REG.TVM_PAGES))).toBe('00'.repeat(HASH_SIZE));
  });

  it('initial registers freeze at finalize', () => {
    const m = finalized();
    expect(() => m.extendPage(0x80202000n, page(0))).toThrow();
    expect(() => m.finalize(0n, 0n)).toThrow();
    expect(() => new Measurements().extendPage(0n, new Uint8Array(4095))).toThrow();
  });
});

describe('AttestationCapabilities', () => {
  it('has the 336-byte layout of digest 6.2 with the suggested registers', () => {
    const caps = attestationCapabilities();
    const view = new DataView(caps.buffer);
    expect(caps.length).toBe(CAPS_SIZE);
    expect(caps.length).toBe(336);
    expect(view.getBigUint64(0x00, true)).toBe(BigInt(TCB_SVN));
    expect(view.getUint32(0x08, true)).toBe(0); // SHA-384
    expect(view.getUint32(0x0c, true)).toBe(CERT_FORMAT_X509);
    expect(caps[0x10]).toBe(4);
    expect(caps[0x11]).toBe(4);
    expect(view.getUint16(0x12, true)).toBe(0);
    const pcrs = [0, 1, 2, 3, 17, 18, 19, 20];
    for (let i = 0; i < 8; i++) {
      const at = 0x14 + 12 * i;
      expect(view.getUint32(at, true)).toBe(0);
      expect(view.getUint32(at + 4, true)).toBe(i < 4 ? 0 : 1);
      expect(caps[at + 8]).toBe(pcrs[i]);
      expect([...caps.subarray(at + 9, at + 12)]).toEqual([0, 0, 0]);
    }
    expect(caps.subarray(0x14 + 12 * 8).every((b) => b === 0)).toBe(true);
    expect(0x14 + 26 * 12 + 4).toBe(336);
  });
});

describe('evidence certificate', () => {
  const seed = new Uint8Array(32).map((_, i) => i);
  const tsm = AttestationKey.fromSeed(seed);
  const tsmPublicKey = createPublicKey({ key: Buffer.from(tsm.publicKeyDer), format: 'der', type: 'spki' });
  const challenge = new Uint8Array(64).map((_, i) => 0xc0 ^ i);
  const identity = new Uint8Array(64).fill(0x1d);
  const tvmKey = generateKeyPairSync('ed25519').publicKey;
  const tvmKeyDer = new Uint8Array(tvmKey.export({ format: 'der', type: 'spki' }));
  const measurements = finalized();
  measurements.extendRuntime(6, unhex(RUNTIME_DIGEST));
  const certDer = tsm.evidence({ measurements, challenge, publicKey: tvmKeyDer, identity, tvmId: 3 });

  // asn1js decodes OID arcs over 56 bits (our 2.25.<UUID> arc) as '{hex}', so compare with the library's own round trip.
  const parsedOid = (oid: string): string =>
    AsnConvert.parse(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: oid })), AlgorithmIdentifier).algorithm;
  const extensionValue = (der: Uint8Array, oid: string): ArrayBuffer | undefined =>
    AsnConvert.parse(der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === parsedOid(oid))?.extnValue.buffer;

  it('parses with node:crypto and verifies with the TSM key only', () => {
    const cert = new X509Certificate(certDer);
    expect(cert.verify(tsmPublicKey)).toBe(true);
    expect(cert.verify(generateKeyPairSync('ed25519').publicKey)).toBe(false);
    expect(cert.subject).toBe('CN=Salus TVM 3');
    expect(cert.issuer).toBe('CN=Salus TSM');
    expect(cert.publicKey.export({ format: 'der', type: 'spki' }).equals(tvmKeyDer)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(new Date(cert.validFrom).toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('fails to verify or parse after any single flipped byte', () => {
    const at = Buffer.from(certDer).indexOf(Buffer.from(challenge));
    expect(at).toBeGreaterThan(0);
    for (const i of [at, at + 63, certDer.length - 1, certDer.length - 64, 20]) {
      const bad = certDer.slice();
      bad[i] ^= 0x01;
      let ok: boolean;
      try {
        ok = new X509Certificate(bad).verify(tsmPublicKey);
      } catch {
        ok = false;
      }
      expect(ok, `flip at ${i}`).toBe(false);
    }
  });

  it('is reproducible: same inputs, same bytes; another seed, another key', () => {
    const again = AttestationKey.fromSeed(seed).evidence({ measurements, challenge, publicKey: tvmKeyDer, identity, tvmId: 3 });
    expect(hex(again)).toBe(hex(certDer));
    const other = AttestationKey.fromSeed(new Uint8Array(32).fill(9));
    expect(hex(other.publicKeyDer)).not.toBe(hex(tsm.publicKeyDer));
    const otherCert = new X509Certificate(other.evidence({ measurements, challenge, publicKey: tvmKeyDer, identity, tvmId: 3 }));
    expect(otherCert.verify(tsmPublicKey)).toBe(false);
  });

  it('takes its serial from the content and copes with inputs that are views into a larger buffer', () => {
    const memory = new Uint8Array(4096).fill(0x55);
    memory.set(challenge, 100);
    const fromView = tsm.evidence({ measurements, challenge: memory.subarray(100, 164), publicKey: tvmKeyDer, identity, tvmId: 3 });
    expect(hex(fromView)).toBe(hex(certDer));
    const otherChallenge = challenge.slice();
    otherChallenge[0] ^= 1;
    const other = tsm.evidence({ measurements, challenge: otherChallenge, publicKey: tvmKeyDer, identity, tvmId: 3 });
    expect(new X509Certificate(other).serialNumber).not.toBe(new X509Certificate(certDer).serialNumber);
  });

  it('carries the 8 registers, in order, as DICE TcbInfo FWIDs', () => {
    const tcbInfo = AsnConvert.parse(extensionValue(certDer, OID.diceTcbInfo)!, DiceTcbInfo);
    expect(tcbInfo.vendor).toBe('Salus');
    expect(tcbInfo.svn).toBe(TCB_SVN);
    expect(tcbInfo.fwids).toHaveLength(MSMT_REGISTERS);
    tcbInfo.fwids!.forEach((fwid, i) => {
      expect(fwid.hashAlg).toBe('2.16.840.1.101.3.4.2.2');
      expect(hex(fwid.digest.buffer)).toBe(hex(measurements.read(i)));
    });
    expect(hex(tcbInfo.fwids![REG.TVM_CONFIG].digest.buffer)).not.toBe('00'.repeat(HASH_SIZE));
    expect(hex(tcbInfo.fwids![6].digest.buffer)).toBe(RUNTIME_AFTER);
  });

  it('carries the challenge in TcbFreshness and the identity in its own extension, none critical', () => {
    const freshness = AsnConvert.parse(extensionValue(certDer, '2.23.133.5.4.11')!, TcbFreshness);
    expect(hex(freshness.nonce.buffer)).toBe(hex(challenge));
    const id = AsnConvert.parse(extensionValue(certDer, OID.tvmIdentity)!, OctetString);
    expect(hex(id.buffer)).toBe(hex(identity));
    const exts = AsnConvert.parse(certDer, Certificate).tbsCertificate.extensions!;
    expect(exts.map((e) => e.extnID)).toEqual([OID.diceTcbInfo, OID.diceTcbFreshness, parsedOid(OID.tvmIdentity)]);
    expect(exts.every((e) => !e.critical)).toBe(true);

    const noIdentity = tsm.evidence({ measurements, challenge, publicKey: tvmKeyDer, tvmId: 3 });
    expect(extensionValue(noIdentity, OID.tvmIdentity)).toBeUndefined();
  });

  it('keeps a TVM key that is not an SPKI as opaque bytes in the subject public key info', () => {
    const coseKey = unhex('a4010103272006215820' + '11'.repeat(32)); // looks like a COSE_Key
    const der = tsm.evidence({ measurements, challenge, publicKey: coseKey, tvmId: 0 });
    expect(new X509Certificate(der).verify(tsmPublicKey)).toBe(true);
    const info = AsnConvert.parse(der, Certificate).tbsCertificate.subjectPublicKeyInfo;
    expect(info.algorithm.algorithm).toBe(parsedOid(OID.opaqueTvmKey));
    expect(info.algorithm.parameters).toBeUndefined();
    expect(hex(info.subjectPublicKey)).toBe(hex(coseKey));
  });

  it('refuses bad requests', () => {
    const ok = { measurements, challenge, publicKey: tvmKeyDer, tvmId: 1 };
    expect(() => tsm.evidence({ ...ok, measurements: new Measurements() })).toThrow();
    expect(() => tsm.evidence({ ...ok, challenge: new Uint8Array(32) })).toThrow();
    expect(() => tsm.evidence({ ...ok, identity: new Uint8Array(48) })).toThrow();
    expect(() => tsm.evidence({ ...ok, tvmId: -1 })).toThrow();
    expect(() => AttestationKey.fromSeed(new Uint8Array(31))).toThrow();
  });
});
