import { describe, expect, it } from 'vitest';
import { inWindow, maintenanceWindowSchema } from '../../../runbooks/planning/maintenanceWindow.js';


const w = (o: Record<string, string>) => maintenanceWindowSchema.parse(o);

describe('maintenance windows', () => {
  it('accepts a time inside days and hours in the window time zone', () => {
    // 2026-11-24 is a Tuesday; 02:30 in Paris is 01:30 UTC.
    expect(inWindow(w({ days: 'mon-fri', hours: '02:00-05:00', timeZone: 'Europe/Paris' }), new Date('2026-11-24T01:30:00Z')).ok).toBe(true);
    expect(inWindow(w({ days: 'mon-fri', hours: '02:00-05:00', timeZone: 'Europe/Paris' }), new Date('2026-11-24T04:30:00Z'))).toMatchObject({ ok: false });
  });

  it('refuses weekend days and blackout dates with the reason', () => {
    expect(inWindow(w({ days: 'mon-fri' }), new Date('2026-11-28T12:00:00Z')).reason).toBe('sat is not in mon-fri');
    expect(inWindow(w({ blackout: '2026-12-24, 2026-12-31' }), new Date('2026-12-24T10:00:00Z')).reason).toBe('2026-12-24 is a blackout date');
  });

  it('handles windows that wrap midnight, counting the night to the day it starts', () => {
    const fridayNight = w({ days: 'fri', hours: '22:00-04:00' });
    expect(inWindow(fridayNight, new Date('2026-11-27T23:00:00Z')).ok).toBe(true); // Fri 23:00
    expect(inWindow(fridayNight, new Date('2026-11-28T03:00:00Z')).ok).toBe(true); // Sat 03:00, still Friday's window
    expect(inWindow(fridayNight, new Date('2026-11-28T23:00:00Z')).ok).toBe(false); // Sat 23:00
  });

  it('throws on malformed days or hours', () => {
    expect(() => inWindow(w({ days: 'funday' }), new Date())).toThrow(/unknown day/);
    expect(() => inWindow(w({ hours: '2am-5am' }), new Date())).toThrow(/not a time/);
  });
});
