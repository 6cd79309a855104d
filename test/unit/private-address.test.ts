import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from '../../src/keys/private-address.js';

describe('isPrivateAddress: what a jwks_uri may not reach', () => {
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

  it('refuses IPv6 forms that carry a private IPv4 address: mapped, NAT64 (64:ff9b::/96), 6to4 (2002::/16)', () => {
    for (const a of [
      '::ffff:127.0.0.1',
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

  it('refuses the deprecated IPv4-compatible form (::/96), local-use NAT64 and Teredo whatever they carry', () => {
    for (const a of ['::127.0.0.1', '::7f00:1', '::8.8.8.8', '::a00:1', '64:ff9b:1::8.8.8.8', '2001:0:4136:e378:8000:63bf:3fff:fdd2'])
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
      '::ffff:8.8.8.8',
    ])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it('refuses what is not an IP address', () => {
    for (const a of ['', 'localhost', 'example.com', '1.2.3', '::g']) assert.equal(isPrivateAddress(a), true, a);
  });
});
