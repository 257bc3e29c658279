import { SHORTCUTS } from "../lib/keys";
import { useUI } from "../store/ui";

/** HelpOverlay lists the keyboard shortcuts. */
export function HelpOverlay() {
  const open = useUI((s) => s.help);
  const setHelp = useUI((s) => s.setHelp);
  if (!open) return null;
  return (
    <div className="overlay" onClick={() => setHelp(false)} data-testid="help">
      <div className="dialog" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(([k, what]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button onClick={() => setHelp(false)}>Close</button>
      </div>
    </div>
  );
}
