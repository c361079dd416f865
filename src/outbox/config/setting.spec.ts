import { z } from 'zod';
import { OutboxConfigError, type OutboxConfigIssue } from '../errors/outbox-config.error.js';
import { describePath, resolveSettings, settingsFromEnv, type Setting } from './setting.js';

const setting = <P extends string, O extends string, S extends z.ZodType>(s: Setting<P, O, S>) => s;

const SETTINGS = [
  setting({
    path: 'name',
    option: 'name',
    env: 'X_NAME',
    default: 'plain',
    description: 'a top-level setting',
    schema: z
      .string()
      .min(2, 'too short')
      .regex(/^[a-z]+$/, 'lower-case letters only'),
  }),
  setting({
    path: 'group.size',
    option: 'groupSize',
    env: 'X_SIZE',
    default: '5',
    description: 'a grouped number',
    schema: z.coerce.number().int().min(1, 'must be at least 1'),
  }),
  setting({
    path: 'group.label',
    option: 'groupLabel',
    env: 'X_LABEL',
    default: undefined,
    description: 'a grouped optional text',
    schema: z.string().optional(),
  }),
  setting({
    path: 'token',
    option: 'token',
    env: 'X_TOKEN',
    default: undefined,
    description: 'a secret',
    secret: true,
    schema: z.string().startsWith('tok_', 'must start with tok_').optional(),
  }),
] as const;

/** The issues of the `OutboxConfigError` `run` throws; fails the test when it throws nothing. */
function issuesOf(run: () => unknown): readonly OutboxConfigIssue[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxConfigError);
    return (error as OutboxConfigError).issues;
  }
  throw new Error('expected an OutboxConfigError, and nothing was thrown');
}

describe('resolveSettings', () => {
  it('applies every default, flat by option name', () => {
    const resolved = resolveSettings(SETTINGS, {}, 'forRoot');
    expect(resolved).toStrictEqual({
      name: 'plain',
      groupSize: 5,
      groupLabel: undefined,
      token: undefined,
    });
  });

  it('takes the values given in code, top-level and grouped, over the defaults', () => {
    expect(
      resolveSettings(
        SETTINGS,
        { name: 'given', group: { size: 9, label: 'l' }, token: 'tok_1' },
        'forRoot',
      ),
    ).toStrictEqual({ name: 'given', groupSize: 9, groupLabel: 'l', token: 'tok_1' });
    // A group given in part leaves the rest of it to the defaults.
    expect(resolveSettings(SETTINGS, { group: { label: 'l' } }, 'forRoot')).toMatchObject({
      groupSize: 5,
      groupLabel: 'l',
    });
  });

  it.each([[undefined], [null], ['text'], [{ group: null }], [{ group: 'text' }]])(
    'falls back to the defaults where the options hold no object: %j',
    (options) => {
      expect(resolveSettings(SETTINGS, options, 'forRoot')).toMatchObject({
        name: 'plain',
        groupSize: 5,
      });
    },
  );

  it('names every bad option as written in code, with every reason and the value', () => {
    const issues = issuesOf(() =>
      resolveSettings(SETTINGS, { name: 'X', group: { size: 0 } }, 'myModule.forRoot'),
    );
    expect(issues).toEqual([
      {
        source: 'myModule.forRoot({ name })',
        reason: 'too short; lower-case letters only (got "X")',
      },
      { source: 'myModule.forRoot({ group: { size } })', reason: 'must be at least 1 (got 0)' },
    ]);
  });

  it('names a bad default by its variable', () => {
    const broken = [{ ...SETTINGS[1], default: 'none' }] as const;
    expect(issuesOf(() => resolveSettings(broken, {}, 'forRoot'))).toEqual([
      {
        source: 'X_SIZE (default)',
        reason: 'Invalid input: expected number, received NaN (got "none")',
      },
    ]);
  });

  it('never echoes the value of a secret setting', () => {
    expect(issuesOf(() => resolveSettings(SETTINGS, { token: 'hunter2' }, 'forRoot'))).toEqual([
      { source: 'forRoot({ token })', reason: 'must start with tok_' },
    ]);
  });

  it('runs the cross-setting rules on the settings that were valid, and reports their issues too', () => {
    const crossCheck = jest.fn((): OutboxConfigIssue[] => [{ source: 'X', reason: 'contradicts' }]);
    const issues = issuesOf(() =>
      resolveSettings(SETTINGS, { name: 'X', group: { size: 3 } }, 'forRoot', crossCheck),
    );
    expect(crossCheck).toHaveBeenCalledWith({
      groupSize: 3,
      groupLabel: undefined,
      token: undefined,
    });
    expect(issues.map((i) => i.source)).toEqual(['forRoot({ name })', 'X']);
  });

  it('resolves when the cross-setting rules find nothing', () => {
    expect(resolveSettings(SETTINGS, {}, 'forRoot', () => [])).toMatchObject({ name: 'plain' });
  });

  it('throws one error whose message lists every issue', () => {
    expect(() => resolveSettings(SETTINGS, { name: 'X', group: { size: 0 } }, 'forRoot')).toThrow(
      'Invalid outbox configuration:\n' +
        '  - forRoot({ name }): too short; lower-case letters only (got "X")\n' +
        '  - forRoot({ group: { size } }): must be at least 1 (got 0)',
    );
  });
});

describe('settingsFromEnv', () => {
  it('reads each variable into its place in the options, and leaves out what is unset', () => {
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '7', X_NAME: 'fromenv' })).toStrictEqual({
      name: 'fromenv',
      group: { size: 7 },
    });
    expect(settingsFromEnv(SETTINGS, {})).toStrictEqual({});
    expect(settingsFromEnv(SETTINGS, { UNRELATED: 'x' })).toStrictEqual({});
  });

  it('keeps the settings of one group together', () => {
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '7', X_LABEL: 'l' })).toStrictEqual({
      group: { size: 7, label: 'l' },
    });
  });

  it("falls back to the application's defaults for an unset or empty variable", () => {
    const defaults = { name: 'app', group: { size: 3 } };
    expect(settingsFromEnv(SETTINGS, {}, defaults)).toStrictEqual(defaults);
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '', X_NAME: '' }, defaults)).toStrictEqual(defaults);
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '' })).toStrictEqual({});
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '8' }, defaults)).toStrictEqual({
      name: 'app',
      group: { size: 8 },
    });
  });

  it('names every bad variable, with every reason, never echoing a secret', () => {
    expect(
      issuesOf(() => settingsFromEnv(SETTINGS, { X_NAME: 'X', X_SIZE: '0', X_TOKEN: 'hunter2' })),
    ).toEqual([
      { source: 'X_NAME', reason: 'too short; lower-case letters only (got "X")' },
      { source: 'X_SIZE', reason: 'must be at least 1 (got "0")' },
      { source: 'X_TOKEN', reason: 'must start with tok_' },
    ]);
  });

  it('runs the cross-setting rules on the options read, and reports their issues', () => {
    const crossCheck = jest.fn((): OutboxConfigIssue[] => [{ source: 'X_SIZE', reason: 'no' }]);
    expect(issuesOf(() => settingsFromEnv(SETTINGS, { X_SIZE: '7' }, {}, crossCheck))).toEqual([
      { source: 'X_SIZE', reason: 'no' },
    ]);
    expect(crossCheck).toHaveBeenCalledWith({ group: { size: 7 } });
    expect(settingsFromEnv(SETTINGS, { X_SIZE: '7' }, {}, () => [])).toStrictEqual({
      group: { size: 7 },
    });
  });
});

describe('describePath', () => {
  it('writes a path as it is written in code', () => {
    expect(describePath('table')).toBe('{ table }');
    expect(describePath('relay.batchSize')).toBe('{ relay: { batchSize } }');
    expect(describePath('a.b.c')).toBe('{ a: { b: { c } } }');
  });
});
