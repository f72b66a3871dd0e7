import { hashPassword, isCommonPassword, passwordProblems, verifyPassword } from './passwords';

describe('passwords', () => {
  it('hashes with argon2id at OWASP parameters and verifies', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(verifyPassword(h, 'correct horse battery')).resolves.toBe(true);
    await expect(verifyPassword(h, 'wrong horse battery')).resolves.toBe(false);
    await expect(verifyPassword(null, 'anything at all')).resolves.toBe(false);
  });

  it('refuses short and common passwords', () => {
    expect(passwordProblems('short')).toEqual(['must be at least 8 characters']);
    expect(isCommonPassword('password1')).toBe(true);
    expect(isCommonPassword('PASSWORD1')).toBe(true);
    expect(passwordProblems('iloveyou')).toEqual(['is too common; choose a less guessable password']);
    expect(passwordProblems('u8-Zq!pW3-harbour')).toEqual([]);
  });
});
