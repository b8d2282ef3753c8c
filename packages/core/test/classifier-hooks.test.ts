/** classifierWith: classifier hooks asked before the built-in classifier (pure logic, table of cases). */
import { describe, expect, it } from 'vitest';
import {
  type ClassifierHook,
  classifierWith,
  classifyError,
  DetourError,
  type FailureClass,
} from '../src/internal.js';

const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const gfw = Object.assign(new Error('connection reset by the policy box'), {
  code: 'ECONNRESET',
  policy: true,
});
const policyHook: ClassifierHook = (error) =>
  (error as { policy?: boolean }).policy ? { failureClass: 'blocked', code: 'TEST_POLICY' } : undefined;

describe('classifierWith', () => {
  it('no hooks: the built-in classifier itself', () => {
    expect(classifierWith([])).toBe(classifyError);
  });

  it('a hook decides the errors it recognises and leaves the others to classifyError', () => {
    const classify = classifierWith([policyHook]);
    expect(classify(gfw)).toEqual({
      failureClass: 'blocked',
      code: 'TEST_POLICY',
      terminal: true, // isTerminal('blocked')
      message: 'connection reset by the policy box', // the built-in message
    });
    expect(classify(reset)).toEqual(classifyError(reset));
    expect(classify(reset).failureClass).toBe('connect-reset');
  });

  it('what a verdict leaves out comes from the built-in answer; what it gives wins', () => {
    const onlyClass = classifierWith([() => ({ failureClass: 'proxy' })]);
    expect(onlyClass(reset)).toEqual({
      failureClass: 'proxy',
      code: 'ECONNRESET',
      terminal: false,
      message: 'read ECONNRESET',
    });
    const everything = classifierWith([
      () => ({ failureClass: 'timeout', code: 'MINE', terminal: true, message: 'said by the hook' }),
    ]);
    expect(everything(reset)).toEqual({
      failureClass: 'timeout',
      code: 'MINE',
      terminal: true,
      message: 'said by the hook',
    });
    // terminal: false on a class that is terminal by default is honoured too.
    expect(classifierWith([() => ({ failureClass: 'blocked', terminal: false })])(reset).terminal).toBe(
      false,
    );
  });

  it('hooks are asked in order; the first verdict wins and later hooks are not called', () => {
    const calls: string[] = [];
    const hook =
      (name: string, failureClass?: FailureClass): ClassifierHook =>
      () => {
        calls.push(name);
        return failureClass ? { failureClass } : undefined;
      };
    const classify = classifierWith([hook('a'), hook('b', 'dns'), hook('c', 'proxy')]);
    expect(classify(reset).failureClass).toBe('dns');
    expect(calls).toEqual(['a', 'b']);
  });

  it('a hook that throws is skipped and reported; the next hook or the built-in answers', () => {
    const reported: [string, number][] = [];
    const classify = classifierWith(
      [
        () => {
          throw new Error('hook bug');
        },
        policyHook,
      ],
      { onHookError: (error, index) => reported.push([(error as Error).message, index]) },
    );
    expect(classify(gfw).code).toBe('TEST_POLICY');
    expect(classify(reset)).toEqual(classifyError(reset));
    expect(reported).toEqual([
      ['hook bug', 0],
      ['hook bug', 0],
    ]);
    // Without onHookError a throwing hook is still only skipped.
    expect(
      classifierWith([
        () => {
          throw new Error('x');
        },
      ])(reset).failureClass,
    ).toBe('connect-reset');
  });

  it('a class outside FAILURE_CLASSES reads as unknown; a non-object answer is no verdict', () => {
    const invented = classifierWith([() => ({ failureClass: 'gremlins' as FailureClass, code: 'G' })]);
    expect(invented(reset)).toMatchObject({ failureClass: 'unknown', code: 'G', terminal: false });
    const sloppy = classifierWith([(() => 'blocked') as unknown as ClassifierHook]);
    expect(sloppy(reset)).toEqual(classifyError(reset));
  });

  it('the built-in answer is computed only when the verdict needs it; `base` replaces it', () => {
    let baseCalls = 0;
    const base = (error: unknown) => {
      baseCalls++;
      return classifyError(error);
    };
    classifierWith([() => ({ failureClass: 'dns', code: 'X', message: 'm' })], { base })(reset);
    expect(baseCalls).toBe(0);
    classifierWith([() => ({ failureClass: 'dns' })], { base })(reset);
    expect(baseCalls).toBe(1);
    classifierWith([() => undefined], { base })(reset);
    expect(baseCalls).toBe(2);
  });

  it('hooks see core DetourErrors as they are thrown (and may leave them alone)', () => {
    const seen: unknown[] = [];
    const error = new DetourError('HTTP 404', { failureClass: 'http-status', code: 'HTTP_404', status: 404 });
    const classify = classifierWith([
      (e) => {
        seen.push(e);
        return undefined;
      },
    ]);
    expect(classify(error)).toEqual(classifyError(error));
    expect(seen).toEqual([error]);
  });
});
