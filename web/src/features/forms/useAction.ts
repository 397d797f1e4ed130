import { useCallback, useEffect, useState } from 'react';

// An action is what a form's submit or a button runs: it resolves to the
// note to show (none: nothing to say) or throws the error to show.
export type Action = () => Promise<string | void>;

// useAction runs actions one at a time as far as the message goes: each
// clears the last message, then keeps its note or its error's message.
// run is stable, so effects may depend on it.
export function useAction(): [string, (action: Action) => Promise<void>] {
  const [msg, setMsg] = useState('');
  const run = useCallback(async (action: Action) => {
    setMsg('');
    try {
      setMsg((await action()) ?? '');
    } catch (e) {
      setMsg(String((e as Error).message));
    }
  }, []);
  return [msg, run];
}

// usePolicy loads a quality programme's policy (peer review, mentored
// reading) into its form; save stores the edited one and says saved.
// load and store must be stable (the typed client's functions are).
export function usePolicy<P>(load: () => Promise<P>, store: (p: P) => Promise<P>, saved: string) {
  const [policy, setPolicy] = useState<P | null>(null);
  const [msg, run] = useAction();
  useEffect(() => void run(async () => setPolicy(await load())), [run, load]);
  const save = () => run(async () => {
    if (policy) setPolicy(await store(policy));
    return saved;
  });
  return { policy, setPolicy, msg, run, save };
}
