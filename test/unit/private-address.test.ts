import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from '../../src/keys/private-address.js';

/** The SSRF guard of jwks_uri fetches: every address it must not connect to, and some it may. */
describe('isPrivateAddress (jwks_uri SSRF guard)', () => {
  it('refuses the private, loopback, link-local, shared, benchmark, multicast and reserved IPv4 ranges', () => {
    for (const a of [
      '0.0.0.0', // "this network" (RFC 1122)
      '10.0.0.1',
      '10.255.255.255',
      '100.64.0.1', // carrier-grade NAT (RFC 6598)
      '100.127.255.254',
      '127.0.0.1',
      '127.255.255.254',
      '169.254.169.254', // link-local, cloud metadata endpoints
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.8', // IETF protocol assignments (RFC 6890)
      '192.168.1.1',
      '198.18.0.1', // benchmarking (RFC 2544)
      '198.19.255.255',
      '224.0.0.1', // multicast
      '239.255.255.250',
      '240.0.0.1', // reserved
      '255.255.255.255',
    ])
      assert.equal(isPrivateAddress(a), true, a);
  });

  it('refuses the IPv6 unspecified, loopback, unique-local, link-local and multicast addresses, and IPv4-mapped ones', () => {
    for (const a of ['::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:8.8.8.8'])
      assert.equal(isPrivateAddress(a), true, a);
  });

  it('allows public addresses next to those ranges', () => {
    for (const a of [
      '8.8.8.8',
      '1.1.1.1',
      '9.255.255.255',
      '11.0.0.1',
      '100.63.255.255',
      '100.128.0.1',
      '126.255.255.255',
      '128.0.0.1',
      '169.253.255.255',
      '172.15.255.255',
      '172.32.0.1',
      '192.0.1.1',
      '192.167.255.255',
      '198.17.255.255',
      '198.20.0.1',
      '223.255.255.255',
      '2001:4860:4860::8888',
      '2606:4700:4700::1111',
      'fec0::1',
    ])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it('treats anything that is not an IP address as private: a host name must be resolved, and the address checked', () => {
    for (const a of ['', 'localhost', 'example.com', '127.1', '0x7f000001', '2130706433', '[::1]', '127.0.0.1 '])
      assert.equal(isPrivateAddress(a), true, JSON.stringify(a));
  });
});

describe('isPrivateAddress: IPv6 forms carrying IPv4 addresses, zones, brackets', () => {
  it('refuses private, loopback, link-local, shared and reserved IPv4 and IPv6', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      'fe80::1%eth0',
      '[::1]',
    ])
      assert.equal(isPrivateAddress(a), true, a);
  });

  it('refuses IPv6 forms that carry a private IPv4 address: NAT64 (64:ff9b::/96), 6to4 (2002::/16)', () => {
    for (const a of [
      '::ffff:7f00:1',
      '64:ff9b::127.0.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b::a9fe:a9fe', // 169.254.169.254, the cloud metadata service
      '64:ff9b::10.0.0.1',
      '2002:7f00:1::',
      '2002:a00:1::1',
      '2002:c0a8:101:1::1', // 192.168.1.1
    ])
      assert.equal(isPrivateAddress(a), true, a);
  });

  it('refuses the IPv4-mapped and deprecated IPv4-compatible forms, local-use NAT64 and Teredo whatever they carry', () => {
    for (const a of [
      '::ffff:8.8.8.8',
      '::127.0.0.1',
      '::7f00:1',
      '::8.8.8.8',
      '::a00:1',
      '64:ff9b:1::8.8.8.8',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    ])
      assert.equal(isPrivateAddress(a), true, a);
  });

  it('allows public addresses, also when a NAT64 or 6to4 address carries a public IPv4 address', () => {
    for (const a of [
      '8.8.8.8',
      '93.184.216.34',
      '2606:2800:220:1:248:1893:25c8:1946',
      '64:ff9b::8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it('refuses what is not an IP address', () => {
    for (const a of ['', 'localhost', 'example.com', '1.2.3', '::g']) assert.equal(isPrivateAddress(a), true, a);
  });
});
