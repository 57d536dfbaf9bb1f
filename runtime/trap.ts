// Trap causes and the sentinel used to unwind an instruction that raises one.
export const enum Cause {
  FetchMisaligned = 0, FetchAccess = 1, IllegalInstruction = 2, Breakpoint = 3,
  LoadMisaligned = 4, LoadAccess = 5, StoreMisaligned = 6, StoreAccess = 7,
  EcallU = 8, EcallS = 9, EcallVS = 10, EcallM = 11,
  FetchPage = 12, LoadPage = 13, StorePage = 15,
  FetchGuestPage = 20, LoadGuestPage = 21, VirtualInstruction = 22, StoreGuestPage = 23,
}

export const enum Irq { SSI = 1, VSSI = 2, MSI = 3, STI = 5, VSTI = 6, MTI = 7, SEI = 9, VSEI = 10, MEI = 11, SGEI = 12 }

/** Thrown (never allocated per trap) to abandon the current instruction; details live on the hart. */
export const TRAP = Object.freeze({ trap: true });
export type TrapSignal = typeof TRAP;

export const enum Access { Read = 0, Write = 1, Exec = 2 }
