/** What the view on screen runs in the background, stopped by the router before it draws the next view. */
export const currentView = {
  /** Stops the tenant page's live stream and listeners. */
  stop: (): void => {},
  /** The refresh interval of a list page. */
  listTimer: 0,
};
