/** Small accessible building blocks: dialogs, fields, menus, spinners, empty states, toasts. */
import { createContext, useCallback, useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, onInFlight } from './api';

// ---- async data ------------------------------------------------------------------------------------

export interface Async<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `fn` when `deps` change; keeps the previous data while reloading, so lists do not flash. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (e: unknown) => live && setState((s) => ({ data: s.data, error: e instanceof ApiError ? e : new ApiError(String(e), 0, ''), loading: false })),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** True once `on` has stayed true for `ms`: spinners only for what is slower than a moment. */
export function useDelayed(on: boolean, ms = 200): boolean {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (!on) {
      setShown(false);
      return;
    }
    const t = setTimeout(() => setShown(true), ms);
    return () => clearTimeout(t);
  }, [on, ms]);
  return shown;
}

// ---- progress and spinners -----------------------------------------------------------------------

export function ProgressBar() {
  const [n, setN] = useState(0);
  useEffect(() => onInFlight(setN), []);
  const shown = useDelayed(n > 0, 150);
  return <div className={`progress${shown ? ' progress-on' : ''}`} role="progressbar" aria-hidden={!shown} aria-label="Loading" />;
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <span className="spinner-wrap" role="status">
      <span className="spinner" aria-hidden="true" />
      <span className="spinner-label">{label}</span>
    </span>
  );
}

/** A spinner after a moment of loading, else nothing. */
export function Loading({ loading, label }: { loading: boolean; label?: string }) {
  const shown = useDelayed(loading);
  return shown ? <Spinner {...(label ? { label } : {})} /> : null;
}

// ---- buttons and fields ----------------------------------------------------------------------------

export function Button(props: {
  children: ReactNode;
  onClick?: () => void;
  type?: 'button' | 'submit';
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  busy?: boolean;
  disabled?: boolean;
  small?: boolean;
  label?: string;
  expanded?: boolean;
  controls?: string;
  /** Takes the focus when its dialog opens (before any field). */
  autoFocus?: boolean;
  id?: string;
}) {
  const { variant = 'secondary', busy = false } = props;
  return (
    <button
      type={props.type ?? 'button'}
      className={`btn btn-${variant}${props.small ? ' btn-small' : ''}`}
      onClick={props.onClick}
      disabled={props.disabled || busy}
      aria-busy={busy || undefined}
      aria-label={props.label}
      aria-expanded={props.expanded}
      aria-controls={props.controls}
      data-autofocus={props.autoFocus || undefined}
      id={props.id}
    >
      {busy && <span className="spinner spinner-inline" aria-hidden="true" />}
      {props.children}
    </button>
  );
}

/** A labelled field with its hint and its error right under it, wired for screen readers. */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  optional?: boolean;
  children: (a: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy = [props.hint ? hintId : null, props.error ? errId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {props.label}
        {props.optional && <span className="optional"> (optional)</span>}
      </label>
      {props.children({ id, ...(describedBy ? { 'aria-describedby': describedBy } : {}), ...(props.error ? { 'aria-invalid': true } : {}) })}
      {props.hint && (
        <div className="hint" id={hintId}>
          {props.hint}
        </div>
      )}
      {props.error && (
        <div className="field-error" id={errId} role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

export function FormError({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <div className="form-error" role="alert">
      {error}
    </div>
  );
}

// ---- dialogs ---------------------------------------------------------------------------------------

/**
 * A modal <dialog>: the rest of the page is inert while it is open, Escape closes it, focus goes to
 * its first field (or `autoFocus`), and returns to the control that opened it.
 */
/** A form's error line and its submit and Cancel buttons, at the foot of a dialog. */
export function FormActions({ error, busy, submitLabel, onCancel }: { error: string | null | undefined; busy: boolean; submitLabel: string; onCancel: () => void }) {
  return (
    <>
      <FormError error={error} />
      <div className="dialog-actions">
        <Button type="submit" variant="primary" busy={busy}>
          {submitLabel}
        </Button>
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </>
  );
}

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  role?: 'dialog' | 'alertdialog';
  describedBy?: string;
  /** Where the focus goes on close when the control that opened the dialog is gone (or going). */
  returnFocus?: () => HTMLElement | null | undefined;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const returnFocus = useRef(props.returnFocus);
  returnFocus.current = props.returnFocus;
  useEffect(() => {
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    // An element marked to take the focus wins over the first field, whatever their order.
    const first =
      d.querySelector<HTMLElement>('[autofocus], [data-autofocus]') ??
      d.querySelector<HTMLElement>('input:not([type=hidden]):not([disabled]), textarea, select, .dialog-body button');
    first?.focus();
    return () => {
      if (d.open) d.close();
      const target = returnFocus.current?.() ?? opener;
      if (target && document.contains(target)) target.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${props.wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={props.describedBy}
      role={props.role}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon-btn" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}

/**
 * A yes-or-no question before something that cannot be undone. Cancel has the focus, so Enter
 * pressed by habit cancels; confirming takes a deliberate move to the red button.
 */
export function ConfirmDialog(props: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  /** The focus after a confirmed deletion, when the opener goes with the deleted thing. */
  afterConfirmFocus?: () => HTMLElement | null | undefined;
}) {
  const confirmed = useRef(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const msgId = useId();
  return (
    <Dialog title={props.title} onClose={props.onClose} role="alertdialog" describedBy={msgId} returnFocus={() => (confirmed.current ? props.afterConfirmFocus?.() : null)}>
      <div id={msgId} className="confirm-message">
        {props.message}
      </div>
      <FormError error={error} />
      <div className="dialog-actions">
        <Button
          variant="danger"
          busy={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await props.onConfirm();
              confirmed.current = true;
              props.onClose();
            } catch (e) {
              setError(e instanceof Error ? e.message : String(e));
              setBusy(false);
            }
          }}
        >
          {props.confirmLabel}
        </Button>
        <Button variant="ghost" onClick={props.onClose} autoFocus>
          Cancel
        </Button>
      </div>
    </Dialog>
  );
}

/**
 * The new token, shown once, with a copy button and the warning Harness gives. Closing it (Escape,
 * ×, or the button) before the token was copied asks first: once closed, it is gone for good.
 */
export function TokenRevealDialog({ token, title, onClose, note }: { token: string; title: string; onClose: () => void; note?: ReactNode }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const [asking, setAsking] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const backRef = useRef<HTMLButtonElement>(null);
  const copyRef = useRef<HTMLDivElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token);
      setCopied('yes');
    } catch {
      inputRef.current?.select();
      setCopied(document.execCommand?.('copy') ? 'yes' : 'failed');
    }
  };
  const tryClose = () => {
    if (copied === 'yes') onClose();
    else setAsking(true);
  };
  useEffect(() => {
    if (asking) backRef.current?.focus();
  }, [asking]);
  return (
    <Dialog title={title} onClose={tryClose} wide>
      <div className="warning" role="note">
        <strong>Copy this token now: it will not be shown again.</strong> Store it somewhere secure. It carries the permissions of its owner; do not put it
        anywhere public. After a rotation, switch everything to the new token.
      </div>
      {note}
      <div className="field">
        <label htmlFor="new-token">Token</label>
        <div className="copy-row" ref={copyRef}>
          <input
            id="new-token"
            ref={inputRef}
            className="mono"
            readOnly
            value={token}
            onFocus={(e) => e.currentTarget.select()}
            onCopy={() => setCopied('yes')}
            data-testid="new-token"
          />
          <Button variant="primary" onClick={copy}>
            {copied === 'yes' ? 'Copied' : 'Copy token'}
          </Button>
        </div>
        <div className="hint" aria-live="polite">
          {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy: select the token and copy it by hand.' : ''}
        </div>
      </div>
      {asking ? (
        <div className="form-error" role="alert">
          <p>
            <strong>You have not copied this token.</strong> Once this dialog closes, nobody can see it again; you would have to rotate it or make a new one.
          </p>
          <div className="dialog-actions">
            <button
              ref={backRef}
              type="button"
              className="btn btn-primary"
              onClick={() => {
                setAsking(false);
                copyRef.current?.querySelector<HTMLElement>('button')?.focus();
              }}
            >
              Back to the token
            </button>
            <Button variant="danger" onClick={onClose}>
              Close without copying
            </Button>
          </div>
        </div>
      ) : (
        <div className="dialog-actions">
          <Button onClick={tryClose}>I have copied it</Button>
        </div>
      )}
    </Dialog>
  );
}

// ---- menus -----------------------------------------------------------------------------------------

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

/** The ⋮ "More options" menu: arrow keys move, Escape closes and returns focus. */
export function MoreMenu({ label, items, id }: { label: string; items: MenuItem[]; id?: string }) {
  const [open, setOpen] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const menuId = useId();
  useEffect(() => {
    if (!open) return;
    list.current?.querySelector<HTMLElement>('[role=menuitem]')?.focus();
    const onDoc = (e: MouseEvent) => {
      if (!list.current?.contains(e.target as Node) && e.target !== btn.current) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, [open]);
  const close = () => {
    setOpen(false);
    btn.current?.focus();
  };
  const onKey = (e: React.KeyboardEvent) => {
    const els = [...(list.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const i = els.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') els[(i + 1) % els.length]?.focus();
    else if (e.key === 'ArrowUp') els[(i - 1 + els.length) % els.length]?.focus();
    else if (e.key === 'Home') els[0]?.focus();
    else if (e.key === 'End') els[els.length - 1]?.focus();
    else if (e.key === 'Escape' || e.key === 'Tab') close();
    else return;
    e.preventDefault();
  };
  return (
    <div className="menu-wrap">
      <button
        ref={btn}
        id={id}
        type="button"
        className="icon-btn"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        ⋮
      </button>
      {open && (
        <ul className="menu" role="menu" id={menuId} ref={list} onKeyDown={onKey} aria-label={label}>
          {items.map((it) => (
            <li key={it.label} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                className={it.danger ? 'menu-danger' : ''}
                onClick={() => {
                  setOpen(false);
                  // The dialog an item opens gives the focus back to ⋮ when it closes.
                  btn.current?.focus();
                  it.onSelect();
                }}
              >
                {it.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- lists -----------------------------------------------------------------------------------------

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <p className="empty-text">{children}</p>}
      {action}
    </div>
  );
}

export function Pager({ pageIndex, totalPages, totalItems, onPage, noun }: { pageIndex: number; totalPages: number; totalItems: number; onPage: (i: number) => void; noun: string }) {
  if (totalPages <= 1) return null;
  return (
    <nav className="pager" aria-label={`${noun} pages`}>
      <Button small disabled={pageIndex === 0} onClick={() => onPage(pageIndex - 1)}>
        Previous
      </Button>
      <span>
        Page {pageIndex + 1} of {totalPages} · {totalItems} {noun}
      </span>
      <Button small disabled={pageIndex + 1 >= totalPages} onClick={() => onPage(pageIndex + 1)}>
        Next
      </Button>
    </nav>
  );
}

/** A search box that reports after the person stops typing. */
export function SearchBox({ label, value, onChange }: { label: string; value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => text !== value && onChange(text), 250);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return <input type="search" className="search" aria-label={label} placeholder={label} value={text} onChange={(e) => setText(e.target.value)} />;
}

// ---- toasts ----------------------------------------------------------------------------------------

const ToastContext = createContext<(msg: string) => void>(() => undefined);
export const useToast = () => useContext(ToastContext);

export function ToastHost({ children }: { children: ReactNode }) {
  const [msgs, setMsgs] = useState<Array<{ id: number; text: string }>>([]);
  const seq = useRef(0);
  const push = useCallback((text: string) => {
    const id = ++seq.current;
    setMsgs((m) => [...m, { id, text }]);
    setTimeout(() => setMsgs((m) => m.filter((x) => x.id !== id)), 4000);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {msgs.map((m) => (
          <div key={m.id} className="toast">
            {m.text}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
